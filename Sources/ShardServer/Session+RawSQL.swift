import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `sql` (protocol.md 8): a parameterised statement on the named shard(s), when
    /// `allow_raw_sql` is on. Placeholders are `$1, $2, ...` on every backend. Rows come
    /// back as lists; they never enter the identity map. Inside a transaction a shard the
    /// transaction holds runs it on the transaction's connection; otherwise autocommit.
    ///
    /// With `commit = "two_phase"`, a statement on a shard the transaction holds may only
    /// read: an atomic commit finishes a SQLite shard from its changeset, which holds row
    /// changes and no DDL, so raw writes there could not be redone after a crash. They are
    /// refused (`bad_request`), and may run outside the transaction.
    func rawSQL(_ request: RawSQLRequest) async throws -> JSONObject {
        let (sql, params) = (request.sql, request.params)
        let shards = try request.shards.map { name throws(ShardError) in try shard(named: name) }
        let maxRows = configuration.server.maxResultRows
        let readOnly = configuration.server.commit == .twoPhase
            ? Set(shards.filter { transaction?.lease(for: $0) != nil }.map(\.name)) : []
        let results: [QueryResult]
        do {
            results = try await readEach(shards) { shard, connection in
                let statement = Statement(shard.dialect.rawSQL(sql), params)
                return readOnly.contains(shard.name) ? try connection.runReadOnly(statement) : try connection.run(statement)
            }
        } catch let error as BackendError where error.cause == .notReadOnly {
            throw ShardError(.badRequest, "shard \(error.shard) is in this session's transaction, and with commit = \"two_phase\" sql may only read there: an atomic commit could not redo its writes after a crash; run it outside the transaction (commit or roll back first)",
                             details: [("shard", .string(error.shard))])
        } catch let error as BackendError where error.cause == .refused || error.cause == .exists {
            // The client's SQL, not a bug of the daemon.
            throw ShardError(.badRequest, "shard \(error.shard) refused the statement: \(error.message)", details: [("shard", .string(error.shard))])
        }
        let rows = results.flatMap(\.rows)
        if rows.count > maxRows {
            throw ShardError(.resultTooLarge, "the statement returned more than \(maxRows) rows (max_result_rows); add a LIMIT")
        }
        let columns = results.first { !$0.columns.isEmpty }?.columns ?? []
        return JSONObject([
            ("columns", .array(columns.map(JSONValue.string))),
            ("rows", .array(rows.map { .array($0.map(\.responseJSON)) })),
            ("shards", .array(shards.map { .string($0.name) })),
        ])
    }
}
