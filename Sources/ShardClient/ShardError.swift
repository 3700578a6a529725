/// Every failure of the client library: an error the daemon answered (protocol.md 10), or one
/// found on this side (the connection, a value that cannot be sent, a row a model cannot hold).
///
/// Match on `code`: `catch let error as ShardError where error.code == .unknownColumn`.
/// Details the daemon sent with the error (`shard`, `keys`, `committed`, `failed`, `column`...)
/// are in `details`, with typed accessors for the common ones.
public struct ShardError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An error code; a struct with static members so that codes can grow without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        /// The code as the protocol spells it, e.g. `"unknown_column"`.
        public var rawValue: String

        /// A code by its protocol spelling.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The protocol spelling.
        public var description: String { rawValue }

        // MARK: Codes of the daemon (protocol.md 10)

        /// The line was not a JSON object.
        public static let badJSON = Code(rawValue: "bad_json")
        /// A missing, unknown or ill-typed argument.
        public static let badRequest = Code(rawValue: "bad_request")
        /// An op the daemon does not know.
        public static let unknownOp = Code(rawValue: "unknown_op")
        /// A model that shards.conf does not define.
        public static let unknownModel = Code(rawValue: "unknown_model")
        /// A column the model does not have.
        public static let unknownColumn = Code(rawValue: "unknown_column")
        /// A shard that shards.conf does not define.
        public static let unknownShard = Code(rawValue: "unknown_shard")
        /// A relationship the model does not have.
        public static let unknownRelationship = Code(rawValue: "unknown_relationship")
        /// A value that does not fit its column's type or nullability.
        public static let invalidValue = Code(rawValue: "invalid_value")
        /// No shard can be chosen for a new row.
        public static let noShard = Code(rawValue: "no_shard")
        /// `get` without a shard found the primary key on several shards; see `ShardError.keys`.
        public static let ambiguousIdentity = Code(rawValue: "ambiguous_identity")
        /// The row of the key no longer exists.
        public static let notFound = Code(rawValue: "not_found")
        /// A shard refused the statement (unique, not null, foreign key, check).
        public static let constraintViolation = Code(rawValue: "constraint_violation")
        /// An update would move a row to another shard.
        public static let shardKeyChange = Code(rawValue: "shard_key_change")
        /// A shard could not be reached; see `ShardError.shard`.
        public static let shardUnavailable = Code(rawValue: "shard_unavailable")
        /// A commit did not complete on every shard; see `committed` and `failed`.
        public static let transactionFailed = Code(rawValue: "transaction_failed")
        /// The daemon ended the session's transaction (idle timeout, shard lost).
        public static let transactionAborted = Code(rawValue: "transaction_aborted")
        /// The request ran past the daemon's `request_timeout_ms`.
        public static let timeout = Code(rawValue: "timeout")
        /// The result has more rows than `max_result_rows`; add a `limit`.
        public static let resultTooLarge = Code(rawValue: "result_too_large")
        /// A request line was longer than `max_line_bytes`; the daemon closed the connection.
        public static let lineTooLong = Code(rawValue: "line_too_long")
        /// Not allowed: peer uid, admin op, or raw SQL not enabled.
        public static let forbidden = Code(rawValue: "forbidden")
        /// A bug in the daemon; the message says what failed.
        public static let `internal` = Code(rawValue: "internal")
        /// The daemon already serves `max_connections` connections (docs/protocol.md).
        public static let tooManyConnections = Code(rawValue: "too_many_connections")

        // MARK: Codes of the client library

        /// Nothing accepts connections at the socket path (no daemon, or a stale socket file).
        public static let cannotConnect = Code(rawValue: "cannot_connect")
        /// The connection to the daemon closed; requests that were waiting fail with this.
        public static let connectionLost = Code(rawValue: "connection_lost")
        /// A Swift value could not be turned into column values (e.g. a nested struct).
        public static let encodingFailed = Code(rawValue: "encoding_failed")
        /// The daemon's row does not fit the model type (a missing column, another type).
        public static let decodingFailed = Code(rawValue: "decoding_failed")
        /// The daemon's answer was not what the protocol says (a bug on one side).
        public static let invalidResponse = Code(rawValue: "invalid_response")
    }

    /// What went wrong, as a code to match on.
    public var code: Code
    /// One sentence a person can act on.
    public var message: String
    /// The other members of the daemon's error object (`shard`, `keys`, `committed`...), in order.
    public var details: JSONValue.Object

    /// An error with this code, message and details.
    public init(_ code: Code, _ message: String, details: JSONValue.Object = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// `code: message`, then the details as JSON when there are any.
    public var description: String {
        details.isEmpty ? "\(code): \(message)" : "\(code): \(message) \(details)"
    }

    /// The shard the error concerns, when one does.
    public var shard: String? { details["shard"]?.stringValue }

    /// The shards the error names (`transaction_aborted`).
    public var shards: [String]? { Self.names(details["shards"]) }

    /// The column the error concerns (`unknown_column`, `invalid_value`, `shard_key_change`).
    public var column: String? { details["column"]?.stringValue }

    /// The identity keys found on several shards (`ambiguous_identity`).
    public var keys: [IdentityKey]? {
        guard let elements = details["keys"]?.arrayValue else { return nil }
        return elements.compactMap { try? IdentityKey(json: $0) }
    }

    /// The shards that committed (`transaction_failed`).
    public var committed: [String]? { Self.names(details["committed"]) }

    /// The shards that failed to commit (`transaction_failed`).
    public var failed: [String]? { Self.names(details["failed"]) }

    /// The socket path, for `connection_lost` and `cannot_connect`.
    public var socketPath: String? { details["socket"]?.stringValue }

    private static func names(_ value: JSONValue?) -> [String]? {
        value?.arrayValue?.compactMap(\.stringValue)
    }
}

extension ShardError {
    /// The error object of a failed answer.
    init(answer error: CoreObject) {
        var code = Code.invalidResponse
        var message = "the daemon answered ok: false without an error object"
        var details: [(key: String, value: JSONValue)] = []
        for member in error.members {
            switch (member.key, member.value) {
            case ("code", .string(let text)): code = Code(rawValue: text)
            case ("message", .string(let text)): message = text
            default: details.append((key: member.key, value: JSONValue(core: member.value)))
            }
        }
        self.init(code, message, details: JSONValue.Object(details))
    }

    /// The connection closed with requests outstanding, or a request was sent after it closed.
    static func connectionLost(_ path: String, reason: String? = nil) -> ShardError {
        ShardError(.connectionLost, "lost the connection to shardd at \(path)" + (reason.map { " (\($0))" } ?? ""),
                   details: ["socket": .string(path)])
    }

    /// Connecting failed.
    static func cannotConnect(_ path: String, reason: String?) -> ShardError {
        let message: String
        if let reason {
            message = "cannot connect to shardd at \(path): \(reason)"
        } else {
            message = "no shardd listening at \(path); start it with `swift run shardd`"
        }
        return ShardError(.cannotConnect, message, details: ["socket": .string(path)])
    }

    static func invalidResponse(_ what: String) -> ShardError {
        ShardError(.invalidResponse, "the daemon's answer \(what)")
    }
}
