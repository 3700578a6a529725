import ShardCore
import ShardProtocol
import ShardStore

/// `move` and `jobs` (protocol.md 9, 13), and `moved` for keys that name a row's old shard.
extension Session {
    /// `move`: one unit to a shard, as a job of one step.
    func move(_ request: MoveRequest) async throws -> JSONObject {
        let placement = routed.placement
        let group = request.group
        let unit: PlacementUnit
        let from: String
        switch (request.target, placement.rule(of: group.name)) {
        case (.value(let value), .map(_, let owners, let defaultShard)?):
            guard let owner = owners[value] ?? defaultShard else {
                throw ShardError(.noShard, "\(group.name) has no shard for \(group.shardBy?.column ?? "its key") = \(value.messageText) (no map entry and no default): no row can hold it, so there is nothing to move")
            }
            (unit, from) = (.value(value), owner)
        case (.value(let value), .ranges(_, let ranges)?):
            guard let range = ranges.first(where: { value >= $0.lower && value < $0.upper }) else {
                throw ShardError(.noShard, "no range of \(group.name) holds \(value.messageText): no row can hold it, so there is nothing to move")
            }
            (unit, from) = (.range(lower: range.lower, upper: range.upper), range.shard)
        case (.bucket(let bucket), .hash(_, let buckets)?):
            (unit, from) = (.bucket(bucket), buckets.owners[bucket])
        case (.key(let key), _):
            let found = try await readEach(context.shards.shards) { shard, connection in
                (shard.name, try connection.run(shard.pointSelects.statement(group, key)).rows.isEmpty == false)
            }.filter(\.1).map(\.0)
            guard found.count == 1 else {
                throw found.isEmpty
                    ? ShardError(.notFound, "\(group.name) \(key.map(\.messageText).joined(separator: ", ")) is on no shard")
                    : ShardError(.ambiguousIdentity, "\(group.name) \(key.map(\.messageText).joined(separator: ", ")) is on several shards (\(found.joined(separator: ", "))); move a row that is on one")
            }
            (unit, from) = (.key(key), found[0])
        default:
            throw ShardError(.badRequest, "this unit does not fit how \(group.name) is placed")
        }
        guard from != request.to else {
            throw ShardError(.badRequest, "\(group.name) \(unit.text) is on \(from) already; nothing to move")
        }
        let move = RebalancePlan.Move(group: group.name, unit: unit, from: from, to: request.to)
        let rows = try await UnitRowCounter(shards: context.shards, configuration: configuration).rows(of: [move])
        let job = try await context.reloading.run { [context] in try context.jobs.start(.move, steps: MoveJob.steps(of: [(move, rows[0])]), context: context) }
        return JSONObject([("job", .int(Int64(job.id)))])
    }

    /// `jobs`: every job, or one.
    func jobs(_ id: Int?) throws -> JSONObject {
        let jobs = context.jobs.list(id)
        if let id, jobs.isEmpty { throw ShardError(.notFound, "there is no job \(id) (jobs lists them all)") }
        return JSONObject([("jobs", .array(jobs.map(\.answer)))])
    }

    /// `moved` (protocol.md 10) when `key` names a shard that the row's unit left by a move
    /// and the row is where it went (its new key, or the id a move gave it); nil otherwise.
    func moved(_ key: IdentityKey, model: Model) async -> ShardError? {
        guard let group = routed.groups[model.name] else { return nil }
        let destinations = context.departures.destinations(group: group, from: key.token)
        guard !destinations.isEmpty else { return nil }
        var now = context.departures.newKey(of: key)
        if now == nil {
            for name in context.shardOrder.inFileOrder(destinations) {
                guard let shard = context.shards.shard(named: name) else { continue }
                let statement = shard.pointSelects.statement(model, key.primaryKey)
                guard let row = (try? await read(on: shard, { try $0.run(statement).rows.first })) ?? nil,
                      let unit = await unit(of: row, model: model, on: shard),
                      context.departures.unit(unit, of: group, left: key.token) else { continue }
                now = IdentityKey(model: model.name, primaryKey: key.primaryKey, token: name)
                break
            }
        }
        guard let now else { return nil }
        identityMap.remove(key)
        return ShardError(.moved, "\(key.messageText) moved: the row is \(now.messageText) now", details: [("key", now.responseJSON)])
    }

    /// The unit a row on `shard` belongs to: its head's (read up the chain of parents there),
    /// or its own key for a model without `shard_by`.
    private func unit(of row: [ShardValue], model: Model, on shard: Shard) async -> PlacementUnit? {
        guard let chain = configuration.placementChain(of: model.name), let head = chain.last?.model else {
            return .key(model.primaryKeyPositions.map { row[$0] })
        }
        var current = row
        for index in chain.indices.dropLast() {
            guard let via = chain[index].via, let position = chain[index].model.columns.firstIndex(where: { $0.name == via }) else { return nil }
            let statement = shard.pointSelects.statement(chain[index + 1].model, [current[position]])
            guard let parent = (try? await read(on: shard, { try $0.run(statement).rows.first })) ?? nil else { return nil }
            current = parent
        }
        guard let rule = routed.placement.rule(of: head.name), let position = head.columns.firstIndex(where: { $0.name == rule.column }) else { return nil }
        return PlacementUnit(of: current[position], under: rule)
    }
}
