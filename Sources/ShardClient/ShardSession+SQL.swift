extension ShardSession {
    /// Runs raw SQL on the named shards (`sql`); placeholders are `$1`, `$2`...
    ///
    /// The daemon refuses it with `forbidden` unless shards.conf sets `allow_raw_sql = true`.
    public func sql(_ sql: String, _ parameters: [ShardValue] = [], shards: [String]) async throws -> SQLResult {
        try SQLResult(try await perform("sql", try Self.sqlArguments(sql, parameters, shards)))
    }

    static func sqlArguments(_ sql: String, _ parameters: [ShardValue], _ shards: [String]) throws(ShardError) -> Arguments {
        var arguments: Arguments = [("sql", .string(sql))]
        if !parameters.isEmpty {
            var values: [JSONValue] = []
            for parameter in parameters { values.append(try parameter.requestJSON()) }
            arguments.append("params", .array(values))
        }
        arguments.appendShards(shards)
        return arguments
    }
}
