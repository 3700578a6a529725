/// Every op of the protocol (protocol.md 8 and 9) with model and column names given as strings
/// and values as `ShardValue`; each answer's result fields come back as a `JSONValue` object
/// (without `id` and `ok`), ready to print or inspect.
///
/// ```swift
/// let answer = try await session.dynamic.query(model: "WeatherLocation", where: Column("continent") == "Asia")
/// print(answer)   // {"objects":[...],"shards":["asia"]}
/// let objects = try answer["objects"]?.arrayValue?.map(ShardObject.init(json:)) ?? []
/// ```
///
/// It shares the session's connection, identity map and transaction.
public struct DynamicSession: Sendable {
    /// The session the requests go to.
    public let session: ShardSession

    /// A dynamic view of `session`.
    public init(session: ShardSession) {
        self.session = session
    }

    /// Sends any op with any arguments, as JSON: the escape hatch for ops of newer daemons.
    @discardableResult
    public func request(_ op: String, _ arguments: JSONValue.Object = [:]) async throws -> JSONValue {
        try await send(op, arguments.members)
    }

    private func send(_ op: String, _ arguments: Arguments = []) async throws -> JSONValue {
        try await session.perform(op, arguments).resultFields
    }

    /// `model` when given: the only argument of ops that take one model or all.
    private static func modelArgument(_ model: String?) -> Arguments {
        var arguments: Arguments = []
        arguments.append("model", ifPresent: model.map(JSONValue.string))
        return arguments
    }

    // MARK: - Session ops (protocol.md 8)

    /// `hello`: server, version, protocol, session, shards, models.
    public func hello(client: String? = nil) async throws -> JSONValue {
        var arguments: Arguments = []
        arguments.append("client", ifPresent: client.map(JSONValue.string))
        return try await send("hello", arguments)
    }

    /// `ping`: `{"pong":true}`.
    @discardableResult
    public func ping() async throws -> JSONValue {
        try await send("ping")
    }

    /// `add` of one row: `{"objects":[...]}`.
    @discardableResult
    public func add(model: String, values: ShardRow, shard: String? = nil) async throws -> JSONValue {
        var arguments: Arguments = [("model", .string(model)), ("values", .object(try values.requestObject()))]
        arguments.append("shard", ifPresent: shard.map(JSONValue.string))
        return try await send("add", arguments)
    }

    /// `add` of several rows: `{"objects":[...]}` in input order.
    @discardableResult
    public func add(model: String, rows: [ShardRow], shard: String? = nil) async throws -> JSONValue {
        var encoded: [JSONValue] = []
        for row in rows { encoded.append(.object(try row.requestObject())) }
        var arguments: Arguments = [("model", .string(model)), ("rows", .array(encoded))]
        arguments.append("shard", ifPresent: shard.map(JSONValue.string))
        return try await send("add", arguments)
    }

    /// `get` by primary key (one value, or several for a composite key): `{"object":...}` or `{"object":null}`.
    public func get(model: String, primaryKey: [ShardValue], shard: String? = nil, fresh: Bool = false,
                    include: [String] = []) async throws -> JSONValue {
        try await send("get", try ShardSession.getArguments(model, primaryKey, shard, fresh, include))
    }

    /// `query`: `{"objects":[...],"shards":[...]}`; with `pageSize`, one page (protocol.md
    /// 8.1) after the cursor `after`, and `"next"`: the following page's cursor, or null.
    public func query(model: String, where predicate: Predicate? = nil, orderBy: [Ordering] = [], limit: Int? = nil,
                      offset: Int? = nil, include: [String] = [], shards: [String]? = nil,
                      pageSize: Int? = nil, after: String? = nil) async throws -> JSONValue {
        var arguments: Arguments = [("model", .string(model))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        if !orderBy.isEmpty { arguments.append("order_by", Ordering.requestJSON(orderBy)) }
        arguments.append("limit", ifPresent: limit.map { .int(Int64($0)) })
        arguments.append("offset", ifPresent: offset.map { .int(Int64($0)) })
        if !include.isEmpty { arguments.append("include", .array(include.map(JSONValue.string))) }
        arguments.appendShards(shards)
        arguments.append("page_size", ifPresent: pageSize.map { .int(Int64($0)) })
        arguments.append("after", ifPresent: after.map(JSONValue.string))
        return try await send("query", arguments)
    }

    /// `count`: `{"count":n,"per_shard":{...},"shards":[...]}`.
    public func count(model: String, where predicate: Predicate? = nil, shards: [String]? = nil) async throws -> JSONValue {
        var arguments: Arguments = [("model", .string(model))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        arguments.appendShards(shards)
        return try await send("count", arguments)
    }

    /// `aggregate`: `{"rows":[...],"shards":[...]}`.
    public func aggregate(model: String, select: [Aggregate], where predicate: Predicate? = nil, groupBy: [String] = [],
                          having: Predicate? = nil, orderBy: [Ordering] = [], limit: Int? = nil,
                          shards: [String]? = nil) async throws -> JSONValue {
        try await send("aggregate", try ShardSession.aggregateArguments(model, select, predicate, groupBy, having, orderBy, limit, shards))
    }

    /// `update` of one row by key: `{"object":...}`.
    @discardableResult
    public func update(key: IdentityKey, values: ShardRow) async throws -> JSONValue {
        try await send("update", [("key", try key.requestJSON()), ("values", .object(try values.requestObject()))])
    }

    /// `delete` of one row by key: `{"deleted":true}`.
    @discardableResult
    public func delete(key: IdentityKey) async throws -> JSONValue {
        try await send("delete", [("key", try key.requestJSON())])
    }

    /// `update_where`: `{"count":n,"per_shard":{...},"shards":[...]}`.
    @discardableResult
    public func updateWhere(model: String, where predicate: Predicate? = nil, values: ShardRow,
                            shards: [String]? = nil) async throws -> JSONValue {
        try await send("update_where", try ShardSession.updateWhereArguments(model, predicate, .object(try values.requestObject()), shards))
    }

    /// `update_where` with plain or computed values: `{"count":n,"per_shard":{...},"shards":[...]}`.
    @discardableResult
    public func updateWhere(model: String, where predicate: Predicate? = nil, _ assignments: [Assignment],
                            shards: [String]? = nil) async throws -> JSONValue {
        try await send("update_where", try ShardSession.updateWhereArguments(model, predicate, try Assignment.values(assignments), shards))
    }

    /// `subscribe` (protocol.md 12): the event lines of the model's committed changes that
    /// match, as they come; the sequence ends with `subscription_overflow` if they are not
    /// read fast enough. `events` limits the kinds (`["insert", "update", "delete"]`).
    public func subscribe(model: String, where predicate: Predicate? = nil, events: Set<ChangeKind>? = nil) async throws -> DynamicChanges {
        DynamicChanges(feed: try await EventFeed.subscribe(session, model: model, where: predicate, events: events))
    }

    /// `delete_where`: `{"count":n,"per_shard":{...},"shards":[...]}`.
    @discardableResult
    public func deleteWhere(model: String, where predicate: Predicate? = nil, shards: [String]? = nil) async throws -> JSONValue {
        var arguments: Arguments = [("model", .string(model))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        arguments.appendShards(shards)
        return try await send("delete_where", arguments)
    }

    /// `load` of a relationship: `{"objects":[...]}` (to-many) or `{"object":...}` (to-one).
    public func load(key: IdentityKey, relationship: String) async throws -> JSONValue {
        try await send("load", [("key", try key.requestJSON()), ("relationship", .string(relationship))])
    }

    /// `refresh`: `{"object":...}`; `forUpdate` also locks the row for the session's transaction.
    public func refresh(key: IdentityKey, forUpdate: Bool = false) async throws -> JSONValue {
        var arguments: Arguments = [("key", try key.requestJSON())]
        if forUpdate { arguments.append("for_update", .bool(true)) }
        return try await send("refresh", arguments)
    }

    /// `begin`: `{"shards":[...]}`.
    @discardableResult
    public func begin() async throws -> JSONValue {
        try await send("begin")
    }

    /// `commit`: `{"shards":[...committed], "txid"?: ..., "pending"?: [...]}`.
    @discardableResult
    public func commit(label: String? = nil) async throws -> JSONValue {
        var arguments: Arguments = []
        arguments.append("label", ifPresent: label.map(JSONValue.string))
        return try await send("commit", arguments)
    }

    /// `transaction_status`: `{"outcome":"committed"|"not_committed"}`.
    public func transactionStatus(label: String) async throws -> JSONValue {
        try await send("transaction_status", [("label", .string(label))])
    }

    /// `rollback`: `{"shards":[...]}`.
    @discardableResult
    public func rollback() async throws -> JSONValue {
        try await send("rollback")
    }

    /// `expunge`: `{"expunged":true|false}`.
    @discardableResult
    public func expunge(key: IdentityKey) async throws -> JSONValue {
        try await send("expunge", [("key", try key.requestJSON())])
    }

    /// `expunge_all`: `{"expunged":n}`.
    @discardableResult
    public func expungeAll() async throws -> JSONValue {
        try await send("expunge_all")
    }

    /// `identity_keys` of this session: `{"keys":[...]}`.
    public func identityKeys(model: String? = nil) async throws -> JSONValue {
        try await send("identity_keys", Self.modelArgument(model))
    }

    /// `sql` on the named shards: `{"columns":[...],"rows":[[...]],"shards":[...]}`.
    public func sql(_ sql: String, params: [ShardValue] = [], shards: [String]) async throws -> JSONValue {
        try await send("sql", try ShardSession.sqlArguments(sql, params, shards))
    }

    // MARK: - Admin ops (protocol.md 9)

    /// `shards`: each shard's backend, redacted URL, status, latency, rows per model and pool.
    public func shards() async throws -> JSONValue {
        try await send("shards")
    }

    /// `sessions`: the live sessions.
    public func sessions() async throws -> JSONValue {
        try await send("sessions")
    }

    /// `keys`: identity keys across live sessions, optionally of one session or model.
    public func keys(session: Int64? = nil, model: String? = nil, limit: Int? = nil) async throws -> JSONValue {
        var arguments: Arguments = []
        arguments.append("session", ifPresent: session.map(JSONValue.int))
        arguments.append("model", ifPresent: model.map(JSONValue.string))
        arguments.append("limit", ifPresent: limit.map { .int(Int64($0)) })
        return try await send("keys", arguments)
    }

    /// `transactions`: cross-shard commits decided and not yet finished on every shard.
    public func transactions() async throws -> JSONValue {
        try await send("transactions")
    }

    /// `placement`: the placement's version, each group's owners, and where shards.conf wants
    /// otherwise (`differs`); of one model's group when `model` is given.
    public func placement(model: String? = nil) async throws -> JSONValue {
        try await send("placement", Self.modelArgument(model))
    }

    /// `rebalance`: the moves that would make the placement match shards.conf; without
    /// `plan`, also `job`, the number of the job that runs them in the background.
    public func rebalance(plan: Bool) async throws -> JSONValue {
        try await send("rebalance", [("plan", .bool(plan))])
    }

    /// One unit that `move` moves (protocol.md 9).
    public enum MoveUnit: Sendable {
        /// A map value, or any value of a range (the range holding it moves).
        case value(JSONValue)
        /// A hash bucket, 0 to buckets - 1.
        case bucket(Int)
        /// The primary key of a row of a model without `shard_by`.
        case key([JSONValue])
    }

    /// `move`: one unit of `model`'s placement group to shard `to`, in a background job;
    /// the answer's `job` is its number (`jobs`).
    public func move(model: String, _ unit: MoveUnit, to: String) async throws -> JSONValue {
        let argument: (String, JSONValue)
        switch unit {
        case .value(let value): argument = ("value", value)
        case .bucket(let bucket): argument = ("bucket", .int(Int64(bucket)))
        case .key(let key): argument = ("key", .array(key))
        }
        return try await send("move", [("model", .string(model)), argument, ("to", .string(to))])
    }

    /// `jobs`: every move job (or the one numbered `job`) with its state and progress.
    public func jobs(job: Int? = nil) async throws -> JSONValue {
        try await send("jobs", job.map { [("job", .int(Int64($0)))] } ?? [])
    }

    /// `verify`: rows on a shard their placement does not name, and the rows per shard per model.
    public func verify(model: String? = nil) async throws -> JSONValue {
        try await send("verify", Self.modelArgument(model))
    }

    /// `stats`: uptime, connections, requests and errors by kind, latencies, per-shard statements.
    public func stats() async throws -> JSONValue {
        try await send("stats")
    }

    /// `reload`: shards.conf read again and applied; `version` and `changed` (key paths), or
    /// `ShardError` `bad_config` with `errors` (the running configuration is kept).
    public func reload() async throws -> JSONValue {
        try await send("reload")
    }

    /// `config`: the running configuration (`version`, `file`, `settings`: key, value, and
    /// `reload`: `live`, `restart` or `fixed`), passwords redacted.
    public func config() async throws -> JSONValue {
        try await send("config")
    }

    /// `metrics`: the Prometheus text exposition in `text`.
    public func metrics() async throws -> JSONValue {
        try await send("metrics")
    }
}
