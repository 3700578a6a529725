import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `add` (protocol.md 8): rows checked, ids made, placed by the shard chooser, inserted
    /// per shard in one write scope, returned as objects in input order.
    func add(_ request: AddRequest) async throws -> JSONObject {
        let (model, explicitShard) = (request.model, request.shard)
        var rows = request.rows
        if model.id == .sequence, let sequence = context.shards.sequences[model.name], let keyColumn = model.primaryKey.first {
            let ids = try await sequence.next(rows.count)
            for (index, id) in ids.enumerated() { rows[index][keyColumn] = .int(id) }
        }

        // Placement. Parents are resolved for the whole request at once: from the identity
        // map, then the rest with one IN query per shard.
        var decisions: [Placement] = []
        decisions.reserveCapacity(rows.count)
        for row in rows { decisions.append(try routed.shardChooser.place(row, of: model, explicitShard: explicitShard)) }
        if let explicitShard, let group = routed.groups[model.name],
           !context.departures.destinations(group: group, from: explicitShard).isEmpty {
            try await checkNotMoved(rows, of: model, explicitShard: explicitShard, group: group)
        }
        let parentShards = try await resolveParents(decisions.compactMap { decision -> (String, ShardValue)? in
            if case .parent(let parentModel, let key) = decision { return (parentModel, key) }
            return nil
        }, for: model)
        let placements = decisions.map { decision -> String in
            switch decision {
            case .shard(let name): return name
            case .parent(let parentModel, let key): return parentShards[ParentRef(model: parentModel, key: key)]!
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
        // Multi-row INSERTs with RETURNING, in chunks, one group of statements per set of
        // columns given (a column left to its server_default must be left out of the INSERT,
        // and SQLite has no DEFAULT in VALUES); each returned row is matched to its input by
        // primary key, or, for ids the shard makes, by id order within its group (one
        // statement assigns ids in the order of its VALUES).
        let hasServerDefaults = model.columns.contains { $0.serverDefault != nil }
        let work = batches.map { batch -> (shard: Shard, body: @Sendable (any ShardConnection) throws -> [[ShardValue]]) in
            var groups: [(columns: [String], indexes: [Int])] = []
            if hasServerDefaults {
                for (position, index) in batch.indexes.enumerated() {
                    let columns = model.columns.map(\.name).filter { rows[index][$0] != nil }
                    if let at = groups.firstIndex(where: { $0.columns == columns }) {
                        groups[at].indexes.append(position)
                    } else {
                        groups.append((columns, [position]))
                    }
                }
            } else {
                // Every row has every column but a key still to be made (Model.newRow): one group.
                let columns = model.columns.map(\.name).filter { rows[batch.indexes[0]][$0] != nil }
                groups = [(columns, Array(batch.indexes.indices))]
            }
            let statements = groups.map { group in
                batch.shard.dialect.insertMany(model, columns: group.columns,
                                               rows: group.indexes.map { position in group.columns.map { rows[batch.indexes[position]][$0]! } })
            }
            let positions = groups.map(\.indexes)
            let count = batch.indexes.count
            let keyIndex = model.primaryKeyPositions[0]
            let keyed = model.id != .shardLocal
            let inputKeys = keyed ? batch.indexes.map { index in model.primaryKey.map { rows[index][$0] ?? .null } } : []
            let keyPositions = model.primaryKeyPositions
            return (batch.shard, { connection in
                var returned = [[ShardValue]](repeating: [], count: count)
                for (group, statements) in zip(positions, statements) {
                    var rowsOfGroup: [[ShardValue]] = []
                    rowsOfGroup.reserveCapacity(group.count)
                    for statement in statements { rowsOfGroup += try connection.run(statement).rows }
                    if keyed {
                        var byKey: [[ShardValue]: [ShardValue]] = [:]
                        for row in rowsOfGroup { byKey[keyPositions.map { row[$0] }] = row }
                        for position in group { returned[position] = byKey[inputKeys[position]]! }
                    } else {
                        rowsOfGroup.sort { $0[keyIndex] < $1[keyIndex] }
                        for (position, row) in zip(group, rowsOfGroup) { returned[position] = row }
                    }
                }
                return returned
            })
        }
        let inserted = try await writeEach(work)
        if context.feed.interest(in: model.name)?.kinds.contains(.insert) == true {
            recordChanges(zip(batches, inserted).flatMap { batch, rows in rows.map { RowChange(.insert, model, shard: batch.shard.name, new: $0) } })
        }

        var objects = [JSONValue](repeating: .null, count: rows.count)
        for (batch, returned) in zip(batches, inserted) {
            for (index, row) in zip(batch.indexes, returned) {
                objects[index] = remember(row, of: model, on: batch.shard.name)
            }
        }
        return JSONObject([("objects", .array(objects))])
    }

    /// An explicit `shard` that rows of the model's group have left by a move: a client that
    /// learned shards before the move must not write there what now lives elsewhere (a stray).
    /// A head row whose unit is placed elsewhere, or a child whose parent is not on that shard
    /// but where the group's rows went, is `moved` (the parent's key now, for a child).
    private func checkNotMoved(_ rows: [[String: ShardValue]], of model: Model, explicitShard: String, group: String) async throws {
        guard let rule = model.shardBy else { return }
        if case .parent(let parentModel, let via) = rule {
            guard let parent = configuration.model(named: parentModel), parent.primaryKey.count == 1 else { return }
            let keys = Array(Set(rows.compactMap { $0[via] }.filter { !$0.isNull }))
            let shard = try shard(named: explicitShard)
            let present = try await read(on: shard) { connection in
                try shard.dialect.keysIn(parent, keys).flatMap { try connection.run($0).rows.map { $0[0] } }
            }
            for key in keys where !present.contains(key) {
                if let moved = await moved(IdentityKey(model: parentModel, primaryKey: [key], token: explicitShard), model: parent) {
                    throw ShardError(.moved, "the \(parentModel) of this \(model.name) moved off \(explicitShard): \(moved.message); add it there (or without shard)",
                                     details: moved.details)
                }
            }
            return
        }
        for row in rows {
            guard let value = row[rule.column], let owner = rule.shard(for: value, shards: context.shardOrder), owner != explicitShard,
                  let unit = PlacementUnit(of: value, under: rule), context.departures.unit(unit, of: group, left: explicitShard) else { continue }
            throw ShardError(.moved, "\(model.name) rows with \(rule.column) = \(value.messageText) moved from \(explicitShard) to \(owner); add them there (or without shard)",
                             details: [("shard", .string(owner))])
        }
    }

    /// A parent row named by a child: its model and primary key.
    struct ParentRef: Hashable {
        var model: String
        var key: ShardValue
    }

    /// The shard of each parent named by the rows of one request: from the identity map,
    /// else found with one `IN` query per shard and parent model.
    private func resolveParents(_ refs: [(model: String, key: ShardValue)], for model: Model) async throws -> [ParentRef: String] {
        var found: [ParentRef: [String]] = [:]
        var unknown: [String: [ShardValue]] = [:]
        for (parentModel, key) in refs {
            let ref = ParentRef(model: parentModel, key: key)
            // Each parent once (a batch often names the same parents many times).
            guard found[ref] == nil else { continue }
            let known = tokens(of: parentModel, key: [key])
            found[ref] = known
            if known.isEmpty { unknown[parentModel, default: []].append(key) }
        }
        for (parentModel, keys) in unknown {
            guard let parent = configuration.model(named: parentModel), parent.primaryKey.count == 1 else { continue }
            let located = try await readEach(context.shards.shards) { shard, connection -> [ShardValue] in
                var present: [ShardValue] = []
                for statement in shard.dialect.keysIn(parent, keys) {
                    present += try connection.run(statement).rows.map { $0[0] }
                }
                return present
            }
            for (shard, keys) in zip(context.shards.shards, located) {
                for key in keys { found[ParentRef(model: parentModel, key: key), default: []].append(shard.name) }
            }
        }
        var out: [ParentRef: String] = [:]
        for (ref, shards) in found {
            switch shards.count {
            case 1: out[ref] = shards[0]
            case 0: throw ShardChooser.parentNotFound(model: model, parentModel: ref.model, key: ref.key)
            default: throw ShardError(.noShard, "the \(ref.model) with key \(ref.key.messageText) exists on several shards (\(shards.joined(separator: ", "))); give shard")
            }
        }
        return out
    }
}
