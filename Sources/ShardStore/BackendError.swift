import ShardProtocol

/// A failure of a shard backend: the shard, what the database said, and what it means.
///
/// Each backend decides the `cause` once, from its own typed code (SQLite's extended result
/// code, PostgreSQL's SQLSTATE), in one function (`SQLiteConnection.cause(of:)`,
/// `PostgresConnection.cause(of:)`); `code` maps causes to protocol codes in one place. No
/// decision anywhere reads the message, which is for people.
package struct BackendError: Error, Sendable, CustomStringConvertible {
    /// What a failure means to the daemon.
    package enum Cause: Sendable, Equatable {
        /// The shard could not be reached: connecting failed, the connection was lost, the
        /// database file cannot be read or written.
        case unreachable
        /// A unique, not-null, foreign-key or check constraint refused the statement.
        case constraint
        /// The statement was cancelled or interrupted, or a lock was not granted in time.
        case timedOut
        /// A value the backend cannot hold, or a stored value that is not of the column's type.
        case unstorable
        /// The backend refused the statement itself: bad SQL, a missing table or column.
        case refused
        /// A `CREATE` found the object made already (another daemon raced it).
        case exists
        /// A statement that writes, run where only reads may run (`runReadOnly`).
        case notReadOnly
        /// A statement run on a borrower's thread outlived its bound; `Shard.withConnection`
        /// runs it again on the connection's queue, so it never reaches a client.
        case inlineLimit
    }

    package var cause: Cause
    package var shard: String
    package var message: String
    /// SQLite's extended result code or PostgreSQL's SQLSTATE, when there is one.
    package var backendCode: String?
    /// The statement that failed, when there was one.
    package var sql: String?

    package init(_ cause: Cause, shard: String, _ message: String, backendCode: String? = nil, sql: String? = nil) {
        self.cause = cause
        self.shard = shard
        self.message = message
        self.backendCode = backendCode
        self.sql = sql
    }

    /// The protocol code a client is answered with when a daemon's statement fails so
    /// (protocol.md 10). A refused statement is the daemon's bug (`internal`), except for
    /// the client's own SQL, which the `sql` op answers with `bad_request`.
    package var code: ErrorCode {
        switch cause {
        case .unreachable: .shardUnavailable
        case .constraint: .constraintViolation
        case .timedOut: .timeout
        case .unstorable: .invalidValue
        case .notReadOnly: .badRequest
        case .refused, .exists, .inlineLimit: .internal
        }
    }

    /// `shard asia: constraint_violation: UNIQUE constraint failed: ... [SQLITE_CONSTRAINT/2067]`
    /// (this text reaches clients inside `transaction_failed` messages: keep its words).
    package var description: String {
        var out = "shard \(shard): \(causeName): \(message)"
        if let backendCode { out += " [\(backendCode)]" }
        return out
    }

    private var causeName: String {
        switch cause {
        case .unreachable: "shard_unavailable"
        case .constraint: "constraint_violation"
        case .timedOut: "timeout"
        case .unstorable: "invalid_value"
        case .refused, .exists: "statement_failed"
        case .inlineLimit: "inline_limit"
        case .notReadOnly: "not_read_only"
        }
    }
}
