import ShardProtocol

/// `keys` (protocol.md 9): identity keys across live sessions.
package struct KeysRequest: Sendable {
    /// Only this session's keys.
    package var session: Int?
    /// Only this model's keys (any name: a model that does not exist has none).
    package var model: String?
    package var limit: Int

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        // A session that is not an integer names no session: every session's keys.
        if case .int(let n)? = reader.optional("session") { session = Int(n) }
        model = try reader.optionalString("model")
        limit = try reader.optionalCount("limit") ?? 1000
        try reader.checkNoUnknownArguments()
    }
}

/// `sql` (protocol.md 8): a parameterised statement on named shards, when `allow_raw_sql` is on.
package struct RawSQLRequest: Sendable {
    /// With `$1, $2, ...` placeholders on every backend.
    package var sql: String
    package var params: [ShardValue]
    /// Checked, without repeats, in file order; never empty (raw SQL is never routed).
    package var shards: [String]

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        sql = try reader.string("sql", "\"SELECT count(*) FROM weather_reports WHERE temperature > $1\"")
        params = try Self.parameters(reader.optional("params"))
        let explicit = try reader.explicitShards()
        try reader.checkNoUnknownArguments()
        guard reader.configuration.server.allowRawSQL else {
            throw ShardError(.forbidden, "raw SQL is not enabled on this daemon; set allow_raw_sql = true in [server]")
        }
        guard let names = explicit, !names.isEmpty else {
            throw ShardError(.badRequest, "sql needs shard or shards: raw SQL is never routed")
        }
        shards = try reader.shardOrder.checked(names)
    }

    /// `params`: JSON scalars, read as they are written (there is no column to type them).
    private static func parameters(_ json: JSONValue?) throws(ShardError) -> [ShardValue] {
        switch json {
        case nil, .null?:
            return []
        case .array(let items)?:
            return try items.map { item throws(ShardError) -> ShardValue in
                switch item {
                case .array, .object: throw ShardError(.badRequest, "params holds JSON scalars only (null, booleans, numbers, strings)")
                default: return ShardValue(untyped: item)
                }
            }
        default:
            throw ShardError(.badRequest, "params must be a list, e.g. [80, \"Tokyo\"]")
        }
    }
}
