import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `sql` (protocol.md 8): a parameterised statement on the named shard(s), when
    /// `allow_raw_sql` is on. Placeholders are `$1, $2, ...` on every backend. Rows come
    /// back as lists; they never enter the identity map. Inside a transaction a shard the
    /// transaction holds runs it on the transaction's connection; otherwise autocommit.
    func rawSQL(_ request: inout Request) async throws -> JSONObject {
        let sql = try request.string("sql", "\"SELECT count(*) FROM weather_reports WHERE temperature > $1\"")
        let params = try rawParameters(request.optional("params"))
        let explicit = try explicitShards(&request)
        try request.checkNoUnknownArguments()
        guard configuration.server.allowRawSQL else {
            throw ShardError(.forbidden, "raw SQL is not enabled on this daemon; set allow_raw_sql = true in [server]")
        }
        guard let names = explicit, !names.isEmpty else {
            throw ShardError(.badRequest, "sql needs shard or shards: raw SQL is never routed")
        }
        let shards = try context.shardOrder.checked(names).map { name throws(ShardError) in try shard(named: name) }
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

    private func rawParameters(_ json: JSONValue?) throws(ShardError) -> [ShardValue] {
        switch json {
        case nil, .null?:
            return []
        case .array(let items)?:
            return try items.map { item throws(ShardError) -> ShardValue in
                switch item {
                case .null: return .null
                case .bool(let b): return .bool(b)
                case .int(let i): return .int(i)
                case .double(let d): return .real(d)
                case .string(let s): return .text(s)
                case .array, .object: throw ShardError(.badRequest, "params holds JSON scalars only (null, booleans, numbers, strings)")
                }
            }
        default:
            throw ShardError(.badRequest, "params must be a list, e.g. [80, \"Tokyo\"]")
        }
    }
}
