import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `update_where` (protocol.md 8): one UPDATE per chosen shard, inside the session's
    /// transaction; the identity map's objects of each shard are refreshed under that
    /// shard's token only (SQLAlchemy's synchronize_session with identity tokens).
    func updateWhere(_ request: UpdateWhereRequest) async throws -> JSONObject {
        let (model, filter, changes) = (request.model, request.filter, request.changes)
        let (routing, results) = try await bulk(model, filter, request.shards) { shard, returningKeys in
            shard.dialect.updateWhere(model, set: changes, where: filter, returningKeys: returningKeys)
        }
        // The changed objects this session holds get the new values, under their own shard.
        let changed = changes.map { change in (model.position(of: change.column), change.value) }
        for (shard, result) in zip(routing.shards, results) {
            for key in result.keys {
                let identity = IdentityKey(model: model.name, primaryKey: key, token: shard)
                guard var row = identityMap.values(for: identity) else { continue }
                for (index, value) in changed { row[index] = value }
                identityMap.put(identity, row)
            }
        }
        return Session.bulkAnswer(routing, results)
    }

    /// `delete_where` (protocol.md 8): one DELETE per chosen shard; the deleted objects
    /// leave the identity map under their own shard's token only.
    func deleteWhere(_ request: FilterRequest) async throws -> JSONObject {
        let (model, filter) = (request.model, request.filter)
        let (routing, results) = try await bulk(model, filter, request.shards) { shard, returningKeys in
            shard.dialect.deleteWhere(model, where: filter, returningKeys: returningKeys)
        }
        for (shard, result) in zip(routing.shards, results) {
            for key in result.keys { identityMap.remove(IdentityKey(model: model.name, primaryKey: key, token: shard)) }
        }
        return Session.bulkAnswer(routing, results)
    }

    /// What one shard's bulk statement did: the rows it changed, and the keys of those the
    /// session's identity map holds (asked for only when the map holds any of that shard).
    struct BulkResult: Sendable {
        var count: Int
        var keys: [[ShardValue]]
    }

    /// Runs a bulk statement on each routed shard in one write scope (all or nothing); the
    /// statement returns the matched keys when asked to (`returningKeys`).
    private func bulk(
        _ model: Model, _ filter: Expression?, _ explicit: [String]?,
        _ statement: @escaping @Sendable (_ shard: Shard, _ returningKeys: Bool) -> Statement
    ) async throws -> (Routing, [BulkResult]) {
        let routing = try route(model, filter, explicit)
        let shards = try routing.shards.map { name throws(ShardError) in try shard(named: name) }
        guard !shards.isEmpty else { return (routing, []) }
        let held = Set(identityMap.keys(model: model.name).map(\.token))
        let results = try await writeEach(shards.map { shard in
            let returning = held.contains(shard.name)
            let statement = statement(shard, returning)
            return (shard, { @Sendable connection -> BulkResult in
                let result = try connection.run(statement)
                return BulkResult(count: returning ? result.rows.count : result.rowsAffected, keys: result.rows)
            })
        })
        return (routing, results)
    }

    /// `per_shard` names the shards where rows changed; `shards`, every shard asked.
    private static func bulkAnswer(_ routing: Routing, _ results: [BulkResult]) -> JSONObject {
        let perShard = JSONObject(zip(routing.shards, results).filter { $1.count > 0 }.map { ($0, .int(Int64($1.count))) })
        return JSONObject([("count", .int(Int64(results.reduce(0) { $0 + $1.count }))), ("per_shard", .object(perShard)),
                           ("shards", .array(routing.shards.map(JSONValue.string)))])
    }
}
