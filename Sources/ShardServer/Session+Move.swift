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
        let job = try context.jobs.start(.move, steps: MoveJob.steps(of: [(move, rows[0])]), context: context)
        return JSONObject([("job", .int(Int64(job.id)))])
    }

    /// `jobs`: every job, or one.
    func jobs(_ id: Int?) throws -> JSONObject {
        let jobs = context.jobs.list(id)
        if let id, jobs.isEmpty { throw ShardError(.notFound, "there is no job \(id) (jobs lists them all)") }
        return JSONObject([("jobs", .array(jobs.map(\.answer)))])
    }

    /// `moved` (protocol.md 10) when `key` names a shard that rows of its group left by a move
    /// and the row is on one they went to (its new key, or the id a move gave it); nil otherwise.
    func moved(_ key: IdentityKey, model: Model) async -> ShardError? {
        guard let group = routed.groups[model.name] else { return nil }
        let destinations = context.departures.destinations(group: group, from: key.token)
        guard !destinations.isEmpty else { return nil }
        var now = context.departures.newKey(of: key)
        if now == nil {
            for name in context.shardOrder.inFileOrder(destinations) {
                guard let shard = context.shards.shard(named: name) else { continue }
                let statement = shard.pointSelects.statement(model, key.primaryKey)
                if (try? await read(on: shard, { try $0.run(statement).rows.isEmpty == false })) == true {
                    now = IdentityKey(model: model.name, primaryKey: key.primaryKey, token: name)
                    break
                }
            }
        }
        guard let now else { return nil }
        identityMap.remove(key)
        return ShardError(.moved, "\(key.messageText) moved: the row is \(now.messageText) now", details: [("key", now.responseJSON)])
    }
}
