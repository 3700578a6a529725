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

/// `move` (protocol.md 9, 13): one unit of a placement group to a shard.
package struct MoveRequest: Sendable {
    /// The head of the group of the model named (any model of the group), or the model
    /// itself when it has no `shard_by` (`key` moves).
    package var group: Model
    package enum Target: Sendable, Equatable {
        /// A map value, or any value of a range (the range holding it moves).
        case value(ShardValue)
        case bucket(Int)
        case key([ShardValue])
    }
    package var target: Target
    package var to: String

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        let model = try reader.model()
        let value = reader.optional("value"), bucket = reader.optional("bucket"), key = reader.optional("key")
        let to = try reader.string("to", "\"europe\"")
        try reader.checkNoUnknownArguments()
        guard reader.configuration.shards.contains(where: { $0.name == to }) else {
            throw ShardError(.unknownShard, "\"\(to)\" is not a shard (shards: \(reader.configuration.shards.map(\.name).joined(separator: ", ")))",
                             details: [("shard", .string(to))])
        }
        if reader.configuration.shards.first(where: { $0.name == to })?.drain == true {
            throw ShardError(.badRequest, "shard \(to) has drain = true: it receives no units; choose another, or set drain = false in shards.conf")
        }
        self.to = to
        let given = [value, bucket, key].compactMap { $0 }.count
        guard given == 1 else {
            throw ShardError(.badRequest, "move takes exactly one of value (a map value or a value in a range), bucket (a hash bucket) or key (a row of a model without shard_by)")
        }
        guard let chain = reader.configuration.placementChain(of: model.name), let head = chain.last?.model, let rule = head.shardBy else {
            guard let key else {
                throw ShardError(.badRequest, "\(model.name) has no shard_by: its rows move one by one, by key (its primary key, e.g. \"key\": [7])")
            }
            group = model
            target = .key(try ArgumentReader.primaryKey(key, of: model))
            return
        }
        group = head
        switch (rule, value, bucket) {
        case (.hash(_, let buckets), nil, .int(let number)?):
            guard (0..<Int64(buckets.count)).contains(number) else {
                throw ShardError(.badRequest, "bucket must be 0 to \(buckets.count - 1): \(head.name) has \(buckets.count) buckets")
            }
            target = .bucket(Int(number))
        case (.hash, _, _):
            throw ShardError(.badRequest, "\(head.name) is placed by a hash of \(rule.column): move a bucket, an integer from 0 (\"bucket\": 3)")
        case (.map, let value?, nil), (.ranges, let value?, nil):
            guard let column = head.column(named: rule.column) else { throw ShardError(.unknownColumn, "\(head.name) has no column \(rule.column)") }
            target = .value(try ShardValue(json: value, for: column, nullable: false))
        default:
            throw ShardError(.badRequest, "\(head.name) is placed by values of \(rule.column): move a value (\"value\": ...)")
        }
    }
}
