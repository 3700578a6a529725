import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `update_where` (protocol.md 8): one UPDATE per chosen shard, inside the session's
    /// transaction; the identity map's objects of each shard are refreshed under that
    /// shard's token only (SQLAlchemy's synchronize_session with identity tokens).
    func updateWhere(_ request: UpdateWhereRequest) async throws -> JSONObject {
        let (model, filter, changes) = (request.model, request.filter, request.changes)
        let interest = context.feed.interest(in: model.name)
        let watched = interest?.kinds.contains(.update) == true
        var before: (@Sendable (Shard) -> Statement)?
        if watched, interest?.oldRowsOfUpdates == true { before = { shard in shard.dialect.selectLocked(model, where: filter) } }
        let (routing, results) = try await bulk(model, filter, request.shards, everyRow: watched, before: before) { shard, returningRows in
            shard.dialect.updateWhere(model, set: changes, where: filter, returningRows: returningRows)
        }
        // The changed objects this session holds get the rows as the shard wrote them
        // (computed values included), under their own shard.
        let keyPositions = model.primaryKey.map(model.position(of:))
        for (shard, result) in zip(routing.shards, results) {
            for row in result.rows {
                let identity = IdentityKey(model: model.name, primaryKey: keyPositions.map { row[$0] }, token: shard)
                if identityMap.values(for: identity) != nil { identityMap.put(identity, row) }
            }
        }
        if watched {
            var changed: [RowChange] = []
            for (shard, result) in zip(routing.shards, results) {
                var old: [[ShardValue]: [ShardValue]] = [:]
                for row in result.before { old[keyPositions.map { row[$0] }] = row }
                for row in result.rows { changed.append(RowChange(.update, model, shard: shard, old: old[keyPositions.map { row[$0] }], new: row)) }
            }
            recordChanges(changed)
        }
        return Session.bulkAnswer(routing, results)
    }

    /// `delete_where` (protocol.md 8): one DELETE per chosen shard; the deleted objects
    /// leave the identity map under their own shard's token only.
    func deleteWhere(_ request: FilterRequest) async throws -> JSONObject {
        let (model, filter) = (request.model, request.filter)
        let watched = context.feed.interest(in: model.name)?.kinds.contains(.delete) == true
        let (routing, results) = try await bulk(model, filter, request.shards, everyRow: watched) { shard, returningRows in
            shard.dialect.deleteWhere(model, where: filter, returningRows: returningRows)
        }
        let keyPositions = model.primaryKey.map(model.position(of:))
        for (shard, result) in zip(routing.shards, results) {
            for row in result.rows { identityMap.remove(IdentityKey(model: model.name, primaryKey: keyPositions.map { row[$0] }, token: shard)) }
        }
        if watched { recordChanges(zip(routing.shards, results).flatMap { shard, result in result.rows.map { RowChange(.delete, model, shard: shard, old: $0) } }) }
        return Session.bulkAnswer(routing, results)
    }

    /// What one shard's bulk statement did: how many rows it changed, and those rows whole
    /// when they were asked for (the session's identity map holds rows of that shard).
    struct BulkResult: Sendable {
        var count: Int
        var rows: [[ShardValue]]
        /// The matched rows before the statement, when asked for (`before`).
        var before: [[ShardValue]] = []
    }

    /// Runs a bulk statement on each routed shard in one write scope (all or nothing); the
    /// statement returns the matched rows when asked to (`returningRows`): on the shards whose
    /// rows the identity map holds, or on every shard with `everyRow` (the change feed's).
    /// - Parameter before: a read of the rows as they were, run first in the same hop.
    private func bulk(
        _ model: Model, _ filter: Expression?, _ explicit: [String]?, everyRow: Bool = false,
        before: (@Sendable (Shard) -> Statement)? = nil,
        _ statement: @escaping @Sendable (_ shard: Shard, _ returningRows: Bool) -> Statement
    ) async throws -> (Routing, [BulkResult]) {
        let routing = try route(model, filter, explicit)
        let shards = try routing.shards.map { name throws(ShardError) in try shard(named: name) }
        guard !shards.isEmpty else { return (routing, []) }
        let held = Set(identityMap.keys(model: model.name).map(\.token))
        let results = try await writeEach(shards.map { shard in
            let returning = everyRow || held.contains(shard.name)
            let statement = statement(shard, returning)
            let read = before?(shard)
            return (shard, { @Sendable connection -> BulkResult in
                let old = try read.map { try connection.run($0).rows } ?? []
                let result = try connection.run(statement)
                return BulkResult(count: returning ? result.rows.count : result.rowsAffected, rows: result.rows, before: old)
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
