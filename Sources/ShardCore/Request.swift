import ShardProtocol

/// One request decoded and checked against the configuration (protocol.md 8 and 9): the op
/// and its typed arguments, which a session executes. Every argument check happens while decoding, in the order the request's
/// arguments are read, so that the first thing wrong is the one answered.
///
/// A new op is a new case, its decoder in `Request.decoders`, and its execution.
package enum Request: Sendable {
    case hello
    case ping
    case add(AddRequest)
    case get(GetRequest)
    case query(QueryRequest)
    case count(FilterRequest)
    case update(UpdateRequest)
    case delete(KeyRequest)
    case load(LoadRequest)
    case refresh(RefreshRequest)
    case begin
    /// `commit`, with the client's `label` (protocol.md 6.1).
    case commit(label: String?)
    case rollback
    /// `transaction_status` of a label (protocol.md 6.1).
    case transactionStatus(label: String)
    case expunge(IdentityKey)
    case expungeAll
    /// `identity_keys`, of one model or all.
    case identityKeys(model: String?)
    case updateWhere(UpdateWhereRequest)
    case deleteWhere(FilterRequest)
    case sql(RawSQLRequest)
    case aggregate(AggregateRequest)
    /// `subscribe` (protocol.md 12): the session is told of committed changes.
    case subscribe(SubscribeRequest)
    /// `unsubscribe` of one of the session's subscriptions.
    case unsubscribe(subscription: Int)
    case shards
    case sessions
    case keys(KeysRequest)
    case stats
    /// `transactions` (protocol.md 9): cross-shard commits not yet finished everywhere.
    case transactions
    /// `placement` (protocol.md 9): the owners of every unit, of one model's group or all.
    case placement(model: String?)
    /// `verify` (protocol.md 9): rows on a shard their placement does not name.
    case verify(model: String?)
    /// `rebalance` (protocol.md 9); only its plan so far.
    case rebalance(plan: Bool)
    case move(MoveRequest)
    case jobs(job: Int?)
    /// `reload` (protocol.md 14): shards.conf read again and applied.
    case reload
    /// `metrics` (protocol.md 15): the Prometheus exposition.
    case metrics
    /// `config` (an extension, docs/protocol.md): the running configuration.
    case config

    /// Reads one op's arguments into its request.
    package typealias Decoder = @Sendable (inout ArgumentReader) throws(ShardError) -> Request

    /// Every op with its decoder, in the order messages list them.
    package static let decoders: [(name: String, decode: Decoder)] = [
        ("hello", { reader throws(ShardError) in
            _ = reader.optional("client")
            try reader.checkNoUnknownArguments()
            return .hello
        }),
        ("ping", { reader throws(ShardError) in try plain(&reader, .ping) }),
        ("add", { reader throws(ShardError) in .add(try AddRequest(&reader)) }),
        ("get", { reader throws(ShardError) in .get(try GetRequest(&reader)) }),
        ("query", { reader throws(ShardError) in .query(try QueryRequest(&reader)) }),
        ("count", { reader throws(ShardError) in .count(try FilterRequest(&reader)) }),
        ("update", { reader throws(ShardError) in .update(try UpdateRequest(&reader)) }),
        ("delete", { reader throws(ShardError) in .delete(try KeyRequest(&reader)) }),
        ("load", { reader throws(ShardError) in .load(try LoadRequest(&reader)) }),
        ("refresh", { reader throws(ShardError) in .refresh(try RefreshRequest(&reader)) }),
        ("begin", { reader throws(ShardError) in try plain(&reader, .begin) }),
        ("commit", { reader throws(ShardError) in
            let label = try reader.optionalString("label")
            try reader.checkNoUnknownArguments()
            return .commit(label: try label.map(Request.checkedLabel))
        }),
        ("rollback", { reader throws(ShardError) in try plain(&reader, .rollback) }),
        ("expunge", { reader throws(ShardError) in
            let key = try IdentityKey(json: try reader.required("key", "[\"Report\", [1], \"asia\"]"), configuration: reader.configuration)
            try reader.checkNoUnknownArguments()
            return .expunge(key)
        }),
        ("expunge_all", { reader throws(ShardError) in try plain(&reader, .expungeAll) }),
        ("identity_keys", { reader throws(ShardError) in .identityKeys(model: try reader.onlyOptionalModel()) }),
        ("update_where", { reader throws(ShardError) in .updateWhere(try UpdateWhereRequest(&reader)) }),
        ("delete_where", { reader throws(ShardError) in .deleteWhere(try FilterRequest(&reader)) }),
        ("sql", { reader throws(ShardError) in .sql(try RawSQLRequest(&reader)) }),
        ("aggregate", { reader throws(ShardError) in .aggregate(try AggregateRequest(&reader)) }),
        ("subscribe", { reader throws(ShardError) in .subscribe(try SubscribeRequest(&reader)) }),
        ("unsubscribe", { reader throws(ShardError) in
            guard case .int(let number) = try reader.required("subscription", "3") else {
                throw ShardError(.badRequest, "subscription must be the number subscribe answered, e.g. 3")
            }
            try reader.checkNoUnknownArguments()
            return .unsubscribe(subscription: Int(number))
        }),
        ("shards", { reader throws(ShardError) in try plain(&reader, .shards) }),
        ("sessions", { reader throws(ShardError) in try plain(&reader, .sessions) }),
        ("keys", { reader throws(ShardError) in .keys(try KeysRequest(&reader)) }),
        ("stats", { reader throws(ShardError) in try plain(&reader, .stats) }),
        ("transaction_status", { reader throws(ShardError) in
            let label = try reader.string("label", "\"transfer-42\"")
            try reader.checkNoUnknownArguments()
            return .transactionStatus(label: try checkedLabel(label))
        }),
        ("transactions", { reader throws(ShardError) in try plain(&reader, .transactions) }),
        ("placement", { reader throws(ShardError) in .placement(model: try reader.onlyOptionalModel()) }),
        ("verify", { reader throws(ShardError) in .verify(model: try reader.onlyOptionalModel()) }),
        ("rebalance", { reader throws(ShardError) in
            var plan = false
            switch reader.optional("plan") {
            case nil, .null?: break
            case .bool(let flag)?: plan = flag
            case _?: throw ShardError(.badRequest, "plan must be true or false")
            }
            try reader.checkNoUnknownArguments()
            return .rebalance(plan: plan)
        }),
        ("move", { reader throws(ShardError) in .move(try MoveRequest(&reader)) }),
        ("jobs", { reader throws(ShardError) in
            var job: Int?
            switch reader.optional("job") {
            case nil, .null?: break
            case .int(let number)?: job = Int(number)
            case _?: throw ShardError(.badRequest, "job must be a job number, as rebalance and move answer")
            }
            try reader.checkNoUnknownArguments()
            return .jobs(job: job)
        }),
        ("reload", { reader throws(ShardError) in try plain(&reader, .reload) }),
        ("metrics", { reader throws(ShardError) in try plain(&reader, .metrics) }),
        ("config", { reader throws(ShardError) in try plain(&reader, .config) }),
    ]

    /// The op names, in the order messages list them.
    package static let names = decoders.map(\.name)

    private static let byName = Dictionary(uniqueKeysWithValues: decoders.map { ($0.name, $0.decode) })

    /// Whether `name` is an op (for stats, which count unknown ops together).
    package static func isKnown(_ name: String) -> Bool {
        byName[name] != nil
    }

    /// The typed request of an envelope's op and arguments.
    /// - Throws: `unknown_op`, or the op's first argument error.
    package static func decode(_ reader: inout ArgumentReader) throws(ShardError) -> Request {
        guard let decode = byName[reader.op] else {
            throw ShardError(.unknownOp, "unknown op \"\(reader.op)\" (ops: \(names.joined(separator: ", ")))")
        }
        return try decode(&reader)
    }

    /// The typed request of a parsed request line, for callers without a session (tests, tools).
    package static func decode(_ json: JSONValue, configuration: Configuration) throws(ShardError) -> Request {
        let envelope: RequestEnvelope
        do {
            envelope = try RequestEnvelope(json)
        } catch {
            throw error.error
        }
        var reader = ArgumentReader(envelope, configuration: configuration)
        return try decode(&reader)
    }

    /// Admin ops (protocol.md 9) are for peers in `admin_uids` only.
    package var isAdmin: Bool {
        switch self {
        case .shards, .sessions, .keys, .stats, .transactions, .placement, .verify, .rebalance, .move, .jobs,
             .reload, .metrics, .config: true
        default: false
        }
    }

    /// Whether the answer's `shards` are the shards the request asked (`shardd_fanout_shards`).
    package var fansOut: Bool {
        if case .hello = self { return false }
        return !isAdmin
    }

    /// A commit label: 1 to 64 bytes (protocol.md 6.1).
    private static func checkedLabel(_ label: String) throws(ShardError) -> String {
        guard (1...64).contains(label.utf8.count) else {
            throw ShardError(.badRequest, "label must be a string of 1 to 64 bytes, e.g. a request id; got \(label.utf8.count) bytes")
        }
        guard !label.utf8.contains(0) else { throw ShardError(.badRequest, "label may not contain the NUL character (U+0000)") }
        return label
    }

    /// An op without arguments.
    private static func plain(_ reader: inout ArgumentReader, _ request: Request) throws(ShardError) -> Request {
        try reader.checkNoUnknownArguments()
        return request
    }
}
