/// A request's failure as the protocol reports it (protocol.md 2 and 10):
/// `{"code": ..., "message": ..., ...details}`.
package struct RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A protocol error code; a struct so that codes can grow without breaking callers.
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package var rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        package static let badJSON = Code(rawValue: "bad_json")
        package static let badRequest = Code(rawValue: "bad_request")
        package static let unknownOp = Code(rawValue: "unknown_op")
        package static let unknownModel = Code(rawValue: "unknown_model")
        package static let unknownColumn = Code(rawValue: "unknown_column")
        package static let unknownShard = Code(rawValue: "unknown_shard")
        package static let unknownRelationship = Code(rawValue: "unknown_relationship")
        package static let invalidValue = Code(rawValue: "invalid_value")
        package static let noShard = Code(rawValue: "no_shard")
        package static let ambiguousIdentity = Code(rawValue: "ambiguous_identity")
        package static let notFound = Code(rawValue: "not_found")
        package static let constraintViolation = Code(rawValue: "constraint_violation")
        package static let shardKeyChange = Code(rawValue: "shard_key_change")
        package static let shardUnavailable = Code(rawValue: "shard_unavailable")
        package static let transactionFailed = Code(rawValue: "transaction_failed")
        package static let transactionAborted = Code(rawValue: "transaction_aborted")
        package static let timeout = Code(rawValue: "timeout")
        package static let resultTooLarge = Code(rawValue: "result_too_large")
        package static let lineTooLong = Code(rawValue: "line_too_long")
        package static let forbidden = Code(rawValue: "forbidden")
        package static let `internal` = Code(rawValue: "internal")
        /// An extension of protocol.md 10: the connection is over `max_connections`.
        package static let tooManyConnections = Code(rawValue: "too_many_connections")
    }

    package var code: Code
    /// One sentence a person can act on.
    package var message: String
    /// Extra members of the error object (`"shard"`, `"keys"`, `"committed"`...), in order.
    package var details: [(key: String, value: JSONValue)]

    package init(_ code: Code, _ message: String, details: [(key: String, value: JSONValue)] = []) {
        self.code = code
        self.message = message
        self.details = details
    }

    package static func == (lhs: RequestError, rhs: RequestError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && JSONObject(lhs.details) == JSONObject(rhs.details)
    }

    package var description: String { "\(code): \(message)" }
}
