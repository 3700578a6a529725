/// Every error code, in one list: the daemon's (protocol.md 10) and those a client finds on
/// its own side of the socket. A struct with static members, so that codes can grow without
/// breaking callers.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The code as the protocol spells it, e.g. `"unknown_column"`.
    public var rawValue: String

    /// A code by its protocol spelling.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The protocol spelling.
    public var description: String { rawValue }

    // MARK: Codes of the daemon (protocol.md 10)

    /// The line was not a JSON object.
    public static let badJSON = ErrorCode(rawValue: "bad_json")
    /// A missing, unknown or ill-typed argument.
    public static let badRequest = ErrorCode(rawValue: "bad_request")
    /// An op the daemon does not know.
    public static let unknownOp = ErrorCode(rawValue: "unknown_op")
    /// A model that shards.conf does not define.
    public static let unknownModel = ErrorCode(rawValue: "unknown_model")
    /// A column the model does not have.
    public static let unknownColumn = ErrorCode(rawValue: "unknown_column")
    /// A shard that shards.conf does not define.
    public static let unknownShard = ErrorCode(rawValue: "unknown_shard")
    /// A relationship the model does not have.
    public static let unknownRelationship = ErrorCode(rawValue: "unknown_relationship")
    /// A value that does not fit its column's type or nullability.
    public static let invalidValue = ErrorCode(rawValue: "invalid_value")
    /// No shard can be chosen for a new row.
    public static let noShard = ErrorCode(rawValue: "no_shard")
    /// `get` without a shard found the primary key on several shards; see `ShardError.keys`.
    public static let ambiguousIdentity = ErrorCode(rawValue: "ambiguous_identity")
    /// The row of the key no longer exists.
    public static let notFound = ErrorCode(rawValue: "not_found")
    /// A shard refused the statement (unique, not null, foreign key, check).
    public static let constraintViolation = ErrorCode(rawValue: "constraint_violation")
    /// An update would move a row to another shard.
    public static let shardKeyChange = ErrorCode(rawValue: "shard_key_change")
    /// A shard could not be reached; see `ShardError.shard`.
    public static let shardUnavailable = ErrorCode(rawValue: "shard_unavailable")
    /// A commit did not complete on every shard; see `committed` and `failed`.
    public static let transactionFailed = ErrorCode(rawValue: "transaction_failed")
    /// The identity key names a shard the row has left by a move; `key` in the details is its key now.
    public static let moved = ErrorCode(rawValue: "moved")
    /// The daemon ended the session's transaction (idle timeout, shard lost).
    public static let transactionAborted = ErrorCode(rawValue: "transaction_aborted")
    /// The request ran past the daemon's `request_timeout_ms`.
    public static let timeout = ErrorCode(rawValue: "timeout")
    /// The result has more rows than `max_result_rows`; add a `limit`.
    public static let resultTooLarge = ErrorCode(rawValue: "result_too_large")
    /// A request line was longer than `max_line_bytes`; the daemon closed the connection.
    public static let lineTooLong = ErrorCode(rawValue: "line_too_long")
    /// Not allowed: peer uid, admin op, or raw SQL not enabled.
    public static let forbidden = ErrorCode(rawValue: "forbidden")
    /// `reload` found mistakes in shards.conf or a change it cannot apply live; `errors` in
    /// the details lists them, and the running configuration is kept.
    public static let badConfig = ErrorCode(rawValue: "bad_config")
    /// A bug in the daemon; the message says what failed.
    public static let `internal` = ErrorCode(rawValue: "internal")
    /// The daemon already serves `max_connections` connections (an extension of protocol.md 10,
    /// docs/protocol.md).
    public static let tooManyConnections = ErrorCode(rawValue: "too_many_connections")

    // MARK: Codes of the client library (never sent by the daemon)

    /// Nothing accepts connections at the socket path (no daemon, or a stale socket file).
    public static let cannotConnect = ErrorCode(rawValue: "cannot_connect")
    /// The connection to the daemon closed; requests that were waiting fail with this.
    public static let connectionLost = ErrorCode(rawValue: "connection_lost")
    /// A Swift value could not be turned into column values (e.g. a nested struct).
    public static let encodingFailed = ErrorCode(rawValue: "encoding_failed")
    /// The daemon's row does not fit the model type (a missing column, another type).
    public static let decodingFailed = ErrorCode(rawValue: "decoding_failed")
    /// The daemon's answer was not what the protocol says (a bug on one side).
    public static let invalidResponse = ErrorCode(rawValue: "invalid_response")
    /// A change feed ended because its events were not read fast enough (the daemon's
    /// `overflow`, protocol.md 12, or the client's own buffer); subscribe again and resync.
    public static let subscriptionOverflow = ErrorCode(rawValue: "subscription_overflow")
}
