import CSQLite
import ShardProtocol
import Testing
@testable import ShardStore

/// Each backend's one function from its own codes to what a failure means, and the one
/// mapping from that to protocol codes: no decision reads a message.
@Suite struct BackendErrorTests {
    @Test func sqliteResultCodesDecideTheCause() {
        let cases: [(Int32, BackendError.Cause)] = [
            (SQLITE_CONSTRAINT, .constraint), (2067 /* SQLITE_CONSTRAINT_UNIQUE */, .constraint),
            (1299 /* SQLITE_CONSTRAINT_NOTNULL */, .constraint),
            (SQLITE_BUSY, .timedOut), (517 /* SQLITE_BUSY_SNAPSHOT */, .timedOut), (SQLITE_LOCKED, .timedOut),
            (SQLITE_INTERRUPT, .timedOut),
            (SQLITE_MISMATCH, .unstorable), (SQLITE_TOOBIG, .unstorable), (SQLITE_RANGE, .unstorable),
            (SQLITE_IOERR, .unreachable), (522 /* SQLITE_IOERR_SHORT_READ */, .unreachable), (SQLITE_CORRUPT, .unreachable),
            (SQLITE_NOTADB, .unreachable), (SQLITE_CANTOPEN, .unreachable), (SQLITE_FULL, .unreachable),
            (SQLITE_READONLY, .unreachable), (SQLITE_NOMEM, .unreachable),
            (SQLITE_ERROR, .refused), (SQLITE_SCHEMA, .refused),
        ]
        for (code, cause) in cases {
            #expect(SQLiteConnection.cause(of: code) == cause, "\(SQLiteConnection.codeName(code))")
        }
    }

    @Test func postgresStatesDecideTheCause() {
        let cases: [(String?, BackendError.Cause)] = [
            ("08006", .unreachable), ("08001", .unreachable), ("57P01", .unreachable), ("57P03", .unreachable),
            ("23505", .constraint), ("23502", .constraint), ("23503", .constraint), ("23514", .constraint),
            ("57014", .timedOut), ("55P03", .timedOut),
            ("22003", .unstorable), ("22012", .unstorable), ("22P02", .unstorable),
            ("42P07", .exists), ("42710", .exists),
            ("42601", .refused), ("42P01", .refused), ("42703", .refused), ("26000", .refused), (nil, .refused),
        ]
        for (state, cause) in cases {
            #expect(PostgresConnection.cause(of: state) == cause, "\(state ?? "no SQLSTATE")")
        }
    }

    @Test func causesMapToProtocolCodes() {
        let cases: [(BackendError.Cause, ErrorCode)] = [
            (.unreachable, .shardUnavailable), (.constraint, .constraintViolation), (.timedOut, .timeout),
            (.unstorable, .invalidValue), (.refused, .internal), (.exists, .internal), (.inlineLimit, .internal),
        ]
        for (cause, code) in cases {
            #expect(BackendError(cause, shard: "a", "m").code == code, "\(cause)")
        }
        // The description keeps the words that reach clients inside transaction_failed messages.
        #expect(BackendError(.refused, shard: "asia", "no such table: x", backendCode: "SQLITE_ERROR").description
            == "shard asia: statement_failed: no such table: x [SQLITE_ERROR]")
    }
}
