/// A failed request as the protocol reports it (protocol.md 2 and 10):
/// `{"code": ..., "message": ..., ...details}`. The daemon answers with it; the client library
/// throws it, for the daemon's errors and for those it finds itself (the connection, a value
/// that cannot be sent, a row a model cannot hold).
///
/// Match on `code`: `catch let error as ShardError where error.code == .unknownColumn`.
/// Details (`shard`, `keys`, `committed`, `failed`, `column`...) are in `details`, with typed
/// accessors for the common ones.
public struct ShardError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The code's type, under the name the client library has always given it.
    public typealias Code = ErrorCode

    /// What went wrong, as a code to match on.
    public var code: ErrorCode
    /// One sentence a person can act on.
    public var message: String
    /// The other members of the error object (`shard`, `keys`, `committed`...), in order.
    public var details: JSONObject

    /// An error with this code, message and details.
    public init(_ code: ErrorCode, _ message: String, details: JSONObject = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }

    /// An error with details given as a list of members, in order.
    package init(_ code: ErrorCode, _ message: String, details: [(key: String, value: JSONValue)]) {
        self.init(code, message, details: JSONObject(details))
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

    /// The error object of an answer: `{"code": ..., "message": ..., ...details}`.
    package var object: JSONObject {
        var body = JSONObject([("code", .string(code.rawValue)), ("message", .string(message))])
        body.members.append(contentsOf: details.members)
        return body
    }

    /// Reads the error object of a failed answer.
    package init(answer error: JSONObject) {
        var code = ErrorCode.invalidResponse
        var message = "the daemon answered ok: false without an error object"
        var details: [(key: String, value: JSONValue)] = []
        for member in error.members {
            switch (member.key, member.value) {
            case ("code", .string(let text)): code = ErrorCode(rawValue: text)
            case ("message", .string(let text)): message = text
            default: details.append(member)
            }
        }
        self.init(code, message, details: details)
    }
}
