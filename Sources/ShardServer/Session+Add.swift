import ShardCore
import ShardStore

extension Session {
    /// `add` (protocol.md 8): rows checked, ids made, placed by the shard chooser, inserted
    /// per shard in one write scope, returned as objects in input order.
    func add(_ request: inout Request) async throws -> JSONObject {
        let model = try self.model(&request)
        let single = request.optional("values")
        let many = request.optional("rows")
        let explicitShard = try request.optionalString("shard")
        try request.checkNoUnknownArguments()

        let inputs: [JSONValue]
        switch (single, many) {
        case (let values?, nil): inputs = [values]
        case (nil, .array(let rows)?) where !rows.isEmpty: inputs = rows
        case (nil, .array?): throw RequestError(.badRequest, "rows must hold at least one row")
        case (nil, _?): throw RequestError(.badRequest, "rows must be a list of value objects")
        case (nil, nil): throw RequestError(.badRequest, "add needs values (one row) or rows (a list), e.g. {\"values\": {\"city\": \"Tokyo\"}}")
        case (_?, _?): throw RequestError(.badRequest, "give values or rows, not both")
        }

        // Every row is checked before anything is written or any id is taken.
        var rows: [[String: Value]] = []
        rows.reserveCapacity(inputs.count)
        for input in inputs {
            var given: [String: Value] = [:]
            for (column, value) in try columnValues(input, of: model, argument: "values") { given[column.name] = value }
            do {
                rows.append(try model.newRow(given))
            } catch {
                throw RequestError(error)
            }
        }
        if model.id == .sequence, let sequence = context.shards.sequences[model.name], let keyColumn = model.primaryKey.first {
            let ids = try await sequence.next(rows.count)
            for (index, id) in ids.enumerated() { rows[index][keyColumn] = .int(id) }
        }

        // Placement, with parents resolved once per request.
        var placements: [String] = []
        var parents: [IdentityKey: String] = [:]
        for row in rows {
            switch try context.shardChooser.place(row, of: model, explicitShard: explicitShard) {
            case .shard(let name):
                placements.append(name)
            case .parent(let parentModel, let key):
                let lookup = IdentityKey(model: parentModel, primaryKey: [key], token: "")
                if let known = parents[lookup] {
                    placements.append(known)
                } else {
                    let shard = try await parentShard(of: model, parentModel: parentModel, key: key)
                    parents[lookup] = shard
                    placements.append(shard)
                }
            }
        }

        // One batch per shard, in input order within it.
        var batches: [(shard: Shard, indexes: [Int])] = []
        for (index, name) in placements.enumerated() {
            if let at = batches.firstIndex(where: { $0.shard.name == name }) {
                batches[at].indexes.append(index)
            } else {
                batches.append((try shard(named: name), [index]))
            }
        }
        let work = batches.map { batch -> (shard: Shard, body: @Sendable (any ShardConnection) throws -> [[Value]]) in
            let statements = batch.indexes.map { index in
                batch.shard.dialect.insert(model, model.columns.compactMap { column in
                    rows[index][column.name].map { (column.name, $0) }
                })
            }
            return (batch.shard, { connection in try statements.map { try connection.run($0).rows[0] } })
        }
        let inserted = try await writeEach(work)

        var objects = [JSONValue](repeating: .null, count: rows.count)
        for (batch, returned) in zip(batches, inserted) {
            for (index, row) in zip(batch.indexes, returned) {
                objects[index] = remember(row, of: model, on: batch.shard.name)
            }
        }
        return JSONObject([("objects", .array(objects))])
    }

    /// The shard of a child row's parent: from the identity map, else found like `get`.
    private func parentShard(of model: Model, parentModel: String, key: Value) async throws -> String {
        let known = tokens(of: parentModel, key: [key])
        if known.count == 1 { return known[0] }
        guard known.isEmpty, let parent = configuration.model(named: parentModel) else {
            throw RequestError(.noShard, "the \(parentModel) with key \(key) is on several shards (\(known.joined(separator: ", "))); give shard")
        }
        let found = try await readEach(context.shards.shards) { shard, connection in
            try connection.run(shard.dialect.selectByKey(parent, [key])).rows.isEmpty ? nil : shard.name
        }.compactMap { $0 }
        switch found.count {
        case 1: return found[0]
        case 0: throw ShardChooser.parentNotFound(model: model, parentModel: parentModel, key: key)
        default: throw RequestError(.noShard, "the \(parentModel) with key \(key) exists on several shards (\(found.joined(separator: ", "))); give shard")
        }
    }
}
