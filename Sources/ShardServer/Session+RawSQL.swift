import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `sql` (protocol.md 8): a parameterised statement on the named shard(s), when
    /// `allow_raw_sql` is on. Placeholders are `$1, $2, ...` on every backend. Rows come
    /// back as lists; they never enter the identity map. Inside a transaction a shard the
    /// transaction holds runs it on the transaction's connection; otherwise autocommit.
    func rawSQL(_ request: RawSQLRequest) async throws -> JSONObject {
        let (sql, params) = (request.sql, request.params)
        let shards = try request.shards.map { name throws(ShardError) in try shard(named: name) }
        let maxRows = configuration.server.maxResultRows
        let results: [QueryResult]
        do {
            results = try await readEach(shards) { shard, connection in
                try connection.run(Statement(shard.dialect.rawSQL(sql), params))
            }
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
