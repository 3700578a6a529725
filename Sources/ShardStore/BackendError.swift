import ShardCore
import ShardProtocol

/// A failure of a shard backend, carrying the shard's name, a protocol error code, and what
/// the database said.
package struct BackendError: Error, Sendable, CustomStringConvertible {
    /// A protocol error code (protocol.md 10) or a backend-level one; a struct so codes can grow.
    package struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        package var rawValue: String
        package init(rawValue: String) { self.rawValue = rawValue }
        package var description: String { rawValue }

        /// The shard could not be reached (connect failure, lost connection).
        package static let shardUnavailable = Code(rawValue: "shard_unavailable")
        /// Unique, not null, foreign key or check constraint.
        package static let constraintViolation = Code(rawValue: "constraint_violation")
        /// The statement was cancelled or interrupted, or the database stayed busy.
        package static let timeout = Code(rawValue: "timeout")
        /// A value the backend cannot hold or a stored value of the wrong type.
        package static let invalidValue = Code(rawValue: "invalid_value")
        /// Any other statement error (bad SQL, missing table): a bug or a schema mismatch.
        package static let statementFailed = Code(rawValue: "statement_failed")
        /// A statement run on a borrower's thread outlived its bound (`Shard.withConnection`
        /// runs it again on the connection's queue); never reaches a client.
        package static let inlineLimit = Code(rawValue: "inline_limit")
    }

    package var code: Code
    package var shard: String
    package var message: String
    /// SQLite's extended result code or PostgreSQL's SQLSTATE, when there is one.
    package var backendCode: String?
    /// The statement that failed, when there was one.
    package var sql: String?

    package init(_ code: Code, shard: String, _ message: String, backendCode: String? = nil, sql: String? = nil) {
        self.code = code
        self.shard = shard
        self.message = message
        self.backendCode = backendCode
        self.sql = sql
    }

    package var description: String {
        var out = "shard \(shard): \(code): \(message)"
        if let backendCode { out += " [\(backendCode)]" }
        return out
    }
}
