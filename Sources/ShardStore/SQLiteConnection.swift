import CSQLite
import Dispatch
import Glibc
import ShardCore
import ShardProtocol

/// One connection to a shard's SQLite file (WAL, a busy timeout, a prepared-statement cache).
///
/// Opened with SQLITE_OPEN_NOMUTEX: the pool guarantees one user at a time, on one queue.
final class SQLiteConnection: ShardConnection {
    private var db: OpaquePointer?
    private let shard: String
    private var statements: [String: SQLitePreparedStatement] = [:]
    private(set) var isBroken = false
    /// Records the open transaction's changes when it began with `recordingChanges`.
    private var session: OpaquePointer?
    /// `sqlite3_total_changes64` when the open transaction began.
    private var changesAtBegin: Int64 = 0
    var isInTransaction: Bool { db.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Statements kept prepared per connection; beyond this the cache starts over, which
    /// only matters for clients sending endless distinct raw SQL.
    static let statementCacheLimit = 512
    /// How long a writer waits for another connection's lock when no statement timeout
    /// bounds it (with one, the wait is the statement's: protocol.md's `timeout` is a
    /// request past `request_timeout_ms`, as on PostgreSQL, never an earlier bound of ours).
    static let busyTimeoutMs: Int32 = 5000

    /// How long one statement may run before it is interrupted (`timeout`); nil: no bound.
    private let statementTimeoutNs: UInt64?
    /// When the running statement must stop, in DispatchTime nanoseconds; read by the
    /// progress handler on this connection's own thread.
    fileprivate var deadline: UInt64 = .max
    /// When work run on a borrower's thread must give way (`limitInlineWork`); .max: never.
    fileprivate var inlineDeadline: UInt64 = .max
    /// Whether a statement was stopped for `inlineDeadline`: not started, or interrupted
    /// by the progress handler.
    fileprivate var inlineStop = InlineStop.none

    /// How long a statement waits for another connection's lock, in milliseconds.
    private let lockWaitMs: Int32

    /// The write-ahead log's file, fsynced by `syncLog`, and its descriptor once opened.
    private let walPath: String
    private var walFD: Int32 = -1
    /// Whether the open transaction runs with `synchronous=NORMAL` (it began recording its
    /// changes, for an atomic commit): its COMMIT writes the log without an fsync, which
    /// `commit()` then makes itself and `commitDeferringDurability()` leaves to `syncLog`.
    private var relaxedSync = false

    private init(db: OpaquePointer, shard: String, path: String, statementTimeoutMs: Int?) {
        self.db = db
        self.shard = shard
        self.walPath = path + "-wal"
        self.statementTimeoutNs = statementTimeoutMs.map { UInt64($0) * 1_000_000 }
        self.lockWaitMs = statementTimeoutMs.map { Int32(clamping: $0) } ?? SQLiteConnection.busyTimeoutMs
    }

    /// Opens (creating it and its directory if missing) the SQLite file at `path`.
    static func open(path: String, shard: String, statementTimeoutMs: Int? = nil) throws(BackendError) -> SQLiteConnection {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try makeDirectories(String(path[..<slash]), shard: shard)
        }
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            sqlite3_close_v2(handle)
            throw BackendError(.unreachable, shard: shard, "cannot open SQLite file \(path): \(message)",
                             backendCode: SQLiteConnection.codeName(rc))
        }
        let connection = SQLiteConnection(db: handle, shard: shard, path: path, statementTimeoutMs: statementTimeoutMs)
        sqlite3_busy_timeout(handle, connection.lockWaitMs)
        SQLiteArithmetic.register(on: handle)
        // Every 1000 virtual-machine steps: past either deadline, interrupt (SQLITE_INTERRUPT).
        sqlite3_progress_handler(handle, 1000, { context in
            guard let context else { return 0 }
            let connection = Unmanaged<SQLiteConnection>.fromOpaque(context).takeUnretainedValue()
            guard connection.deadline != .max || connection.inlineDeadline != .max else { return 0 }
            let now = DispatchTime.now().uptimeNanoseconds
            if now > connection.inlineDeadline {
                connection.inlineStop = .interrupted
                return 1
            }
            return now > connection.deadline ? 1 : 0
        }, Unmanaged.passUnretained(connection).toOpaque())
        sqlite3_extended_result_codes(handle, 1)
        do throws(BackendError) {
            // journal_mode answers with the mode in force: a read-only or odd file says so.
            let mode = try connection.run(Statement("PRAGMA journal_mode=WAL")).rows.first?.first
            guard mode == .text("wal") else {
                throw BackendError(.unreachable, shard: shard,
                                 "\(path) cannot use WAL journal mode (it is in \(mode?.messageText ?? "no") mode)")
            }
            // FULL: a commit the daemon reported is on disk even after a power loss.
            try connection.execute("PRAGMA synchronous=FULL")
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    func run(_ statement: Statement) throws(BackendError) -> QueryResult {
        let prepared = try prepare(statement.sql)
        defer { prepared.reset() }
        for (index, value) in try statement.storableParams(shard: shard).enumerated() {
            let rc = prepared.bind(value, at: Int32(index + 1))
            guard rc == SQLITE_OK else { throw error(rc, sql: statement.sql) }
        }
        let handle = prepared.handle
        let started = DispatchTime.now().uptimeNanoseconds
        if inlineDeadline != .max, !prepared.cost.fits(now: started, deadline: inlineDeadline) {
            inlineStop = .declined
            throw BackendError(.inlineLimit, shard: shard, "not started inline: it would not end within the time left", sql: statement.sql)
        }
        if let statementTimeoutNs { deadline = started + statementTimeoutNs }
        defer { deadline = .max }
        let columnCount = Int(sqlite3_column_count(handle))
        var result = QueryResult(columns: prepared.columnNames)
        if let types = statement.resultTypes, types.count != columnCount {
            throw BackendError(.refused, shard: shard,
                             "the statement returns \(columnCount) columns but \(types.count) types were given",
                             sql: statement.sql)
        }
        while true {
            let rc = sqlite3_step(handle)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                if inlineStop == .interrupted { prepared.cost.interrupted() }
                throw error(rc, sql: statement.sql)
            }
            var row: [ShardValue] = []
            row.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                row.append(prepared.value(at: column, as: statement.resultTypes?[Int(column)]))
            }
            result.rows.append(row)
        }
        result.rowsAffected = Int(sqlite3_changes(db))
        prepared.cost.ran(DispatchTime.now().uptimeNanoseconds - started)
        return result
    }

    func execute(_ sql: String) throws(BackendError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(db, sql, nil, nil, &message)
        sqlite3_free(message)
        guard rc == SQLITE_OK else { throw error(rc, sql: sql) }
    }

    func limitInlineWork(until deadline: UInt64?) -> InlineStop {
        defer { inlineStop = .none }
        // A read that would wait for a lock (WAL recovery, another process's exclusive lock)
        // must not sleep on a borrower's thread: it gives up at once and waits on the queue.
        let bounded = deadline != nil
        if bounded != (inlineDeadline != .max) { sqlite3_busy_timeout(db, bounded ? 0 : lockWaitMs) }
        inlineDeadline = deadline ?? .max
        return inlineStop
    }

    func waitingForLocks<T>(atMostMs ms: Int, _ body: () throws -> T) throws -> T {
        sqlite3_busy_timeout(db, min(lockWaitMs, Int32(clamping: ms)))
        defer { sqlite3_busy_timeout(db, inlineDeadline != .max ? 0 : lockWaitMs) }
        return try body()
    }

    func releaseMemory() {
        if let db { sqlite3_db_release_memory(db) }
    }

    func begin(recordingChanges: Bool) throws(BackendError) {
        // A transaction that may take part in an atomic commit commits without SQLite's
        // fsync (the setting cannot change inside a transaction, so it is chosen here): see
        // `commitDeferringDurability`. Every other COMMIT stays durable on its own.
        if recordingChanges {
            _ = try run(SQLiteConnection.normalSync)
            relaxedSync = true
        }
        // Writers take SQLite's lock up front: a deferred transaction that later writes can
        // fail with SQLITE_BUSY_SNAPSHOT, which no busy timeout cures.
        do {
            try execute("BEGIN IMMEDIATE")
        } catch {
            try? restoreSync()
            throw error
        }
        changesAtBegin = db.map { sqlite3_total_changes64($0) } ?? 0
        guard recordingChanges, let db else { return }
        var session: OpaquePointer?
        var rc = sqlite3session_create(db, "main", &session)
        if rc == SQLITE_OK { rc = sqlite3session_attach(session, nil) }
        guard rc == SQLITE_OK, let session else {
            if let session { sqlite3session_delete(session) }
            let failure = error(rc, sql: "sqlite3session_create")
            try? execute("ROLLBACK")
            try? restoreSync()
            throw failure
        }
        self.session = session
    }

    func commit() throws(BackendError) {
        let relaxed = relaxedSync
        try commitDeferringDurability()
        // What synchronous=FULL would have done at the COMMIT.
        if relaxed { try syncLog() }
    }

    /// COMMIT without making it durable when the transaction began recording its changes:
    /// for the shards of an atomic commit, whose decision (fsynced, with this changeset) is
    /// what makes the commit durable until `syncLog` has run. Any other transaction: `commit()`.
    func commitDeferringDurability() throws(BackendError) {
        try execute("COMMIT")
        endSession()
        try restoreSync()
    }

    func rollback() throws(BackendError) {
        defer {
            endSession()
            try? restoreSync()
        }
        try execute("ROLLBACK")
    }

    /// Makes every committed transaction durable: an fsync of the write-ahead log (frames
    /// already moved to the database were fsynced by their checkpoint). No log file: nothing
    /// waits in one.
    func syncLog() throws(BackendError) {
        // Kept open: SQLite removes the log only when its last connection closes, and this
        // one is open, so the descriptor names the live file.
        if walFD < 0 {
            walFD = Glibc.open(walPath, O_RDONLY | O_CLOEXEC)
            if walFD < 0 {
                if errno == ENOENT { return }
                throw BackendError(.unreachable, shard: shard, "cannot open \(walPath) to fsync it: \(String(cString: strerror(errno)))")
            }
        }
        guard fsync(walFD) == 0 else {
            throw BackendError(.unreachable, shard: shard, "fsync of \(walPath) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Back to synchronous=FULL after a transaction begun with `recordingChanges`.
    private func restoreSync() throws(BackendError) {
        guard relaxedSync else { return }
        relaxedSync = false
        _ = try run(SQLiteConnection.fullSync)
    }

    // Prepared once per connection (the statement cache), unlike `execute`'s parse per call.
    private static let normalSync = Statement("PRAGMA synchronous=NORMAL")
    private static let fullSync = Statement("PRAGMA synchronous=FULL")

    var hasChanges: Bool {
        guard let db, isInTransaction else { return false }
        return sqlite3_total_changes64(db) != changesAtBegin
    }

    /// The net changes of the open transaction since it began (the session extension diffs
    /// each changed row's first and current values, so work undone by a savepoint is not in it).
    func runReadOnly(_ statement: Statement) throws(BackendError) -> QueryResult {
        // SQLite says at prepare time whether a statement can write.
        guard sqlite3_stmt_readonly(try prepare(statement.sql).handle) != 0 else {
            throw BackendError(.notReadOnly, shard: shard, "the statement would write", sql: statement.sql)
        }
        return try run(statement)
    }

    func changeset() throws(BackendError) -> [UInt8] {
        guard let session else {
            throw BackendError(.refused, shard: shard, "the transaction does not record its changes (begun without recordingChanges)")
        }
        var size: Int32 = 0
        var buffer: UnsafeMutableRawPointer?
        let rc = sqlite3session_changeset(session, &size, &buffer)
        defer { sqlite3_free(buffer) }
        guard rc == SQLITE_OK else { throw error(rc, sql: "sqlite3session_changeset") }
        guard let buffer, size > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: buffer, count: Int(size)))
    }

    /// Applies a changeset in one transaction of its own; any conflict (a row that is not
    /// as the changeset found it) aborts it, and nothing of it stays.
    func apply(changeset: [UInt8]) throws(BackendError) {
        try execute("BEGIN IMMEDIATE")
        var bytes = changeset
        let rc = bytes.withUnsafeMutableBytes { raw in
            sqlite3changeset_apply(db, Int32(raw.count), raw.baseAddress, nil, { _, _, _ in SQLITE_CHANGESET_ABORT }, nil)
        }
        guard rc == SQLITE_OK else {
            let failure = error(rc, sql: "sqlite3changeset_apply")
            try? execute("ROLLBACK")
            throw failure
        }
        try execute("COMMIT")
    }

    private func endSession() {
        // sqlite3session_delete does not take NULL.
        if let session { sqlite3session_delete(session) }
        session = nil
    }

    func close() {
        endSession()
        statements = [:]
        if walFD >= 0 {
            Glibc.close(walFD)
            walFD = -1
        }
        sqlite3_close_v2(db)
        db = nil
        isBroken = true
    }

    deinit {
        endSession()
        statements = [:]
        sqlite3_close_v2(db)
    }

    /// How many prepared statements this connection keeps (for tests and stats).
    var cachedStatementCount: Int { statements.count }

    /// Stops the statement running on this connection; safe from any thread.
    func interrupt() {
        if let db { sqlite3_interrupt(db) }
    }

    private func prepare(_ sql: String) throws(BackendError) -> SQLitePreparedStatement {
        if let cached = statements[sql] { return cached }
        guard let db else { throw BackendError(.unreachable, shard: shard, "the connection is closed", sql: sql) }
        var handle: OpaquePointer?
        let rc = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard rc == SQLITE_OK, let handle else { throw error(rc, sql: sql) }
        let prepared = SQLitePreparedStatement(handle: handle)
        if statements.count >= SQLiteConnection.statementCacheLimit { statements.removeAll() }
        statements[sql] = prepared
        return prepared
    }

    private func error(_ rc: Int32, sql: String) -> BackendError {
        let extended = db.map { sqlite3_extended_errcode($0) } ?? rc
        let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
        var cause = SQLiteConnection.cause(of: extended)
        // Work on a borrower's thread that met its bound (interrupted at the deadline, or a
        // lock it must not wait for there) is run again on the queue; it never reaches a client.
        switch extended & 0xff {
        case SQLITE_INTERRUPT where inlineStop == .interrupted:
            cause = .inlineLimit
        case SQLITE_BUSY where inlineDeadline != .max:
            inlineStop = .declined
            cause = .inlineLimit
        default:
            break
        }
        // A full disk leaves the connection usable; any other I/O failure may not have.
        if cause == .unreachable && extended & 0xff != SQLITE_FULL { isBroken = true }
        return BackendError(cause, shard: shard, message, backendCode: SQLiteConnection.codeName(extended), sql: sql)
    }

    /// What an SQLite result code (primary or extended) means to the daemon: the one place
    /// that decides it.
    static func cause(of code: Int32) -> BackendError.Cause {
        switch code & 0xff {
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_INTERRUPT: .timedOut
        case SQLITE_MISMATCH, SQLITE_TOOBIG, SQLITE_RANGE: .unstorable
        case SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_CANTOPEN, SQLITE_FULL, SQLITE_READONLY, SQLITE_NOMEM: .unreachable
        default: .refused
        }
    }

    /// "SQLITE_CONSTRAINT/2067": the primary code's name and the extended code.
    static func codeName(_ rc: Int32) -> String {
        let names: [Int32: String] = [
            SQLITE_ERROR: "ERROR", SQLITE_INTERNAL: "INTERNAL", SQLITE_PERM: "PERM", SQLITE_ABORT: "ABORT",
            SQLITE_BUSY: "BUSY", SQLITE_LOCKED: "LOCKED", SQLITE_NOMEM: "NOMEM", SQLITE_READONLY: "READONLY",
            SQLITE_INTERRUPT: "INTERRUPT", SQLITE_IOERR: "IOERR", SQLITE_CORRUPT: "CORRUPT", SQLITE_FULL: "FULL",
            SQLITE_CANTOPEN: "CANTOPEN", SQLITE_CONSTRAINT: "CONSTRAINT", SQLITE_MISMATCH: "MISMATCH",
            SQLITE_TOOBIG: "TOOBIG", SQLITE_RANGE: "RANGE", SQLITE_NOTADB: "NOTADB",
        ]
        let name = names[rc & 0xff] ?? String(rc & 0xff)
        return rc > 0xff ? "SQLITE_\(name)/\(rc)" : "SQLITE_\(name)"
    }

    private static func makeDirectories(_ path: String, shard: String) throws(BackendError) {
        var prefix = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: false) {
            prefix += (prefix.isEmpty && path.hasPrefix("/") ? "" : (prefix.isEmpty ? "" : "/")) + part
            if prefix.isEmpty { prefix = "/"; continue }
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                throw BackendError(.unreachable, shard: shard, "cannot create directory \(prefix): \(reason)")
            }
        }
    }
}

/// One prepared statement, finalized with its owner.
final class SQLitePreparedStatement {
    let handle: OpaquePointer
    let columnNames: [String]
    /// Its last runs here, for the inline decision.
    var cost = InlineCost()

    init(handle: OpaquePointer) {
        self.handle = handle
        columnNames = (0..<sqlite3_column_count(handle)).map { String(cString: sqlite3_column_name(handle, $0)) }
    }

    deinit {
        sqlite3_finalize(handle)
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Bools are stored as 0/1 and timestamps as microseconds since 1970 (exact, and they
    /// sort as integers).
    func bind(_ value: ShardValue, at index: Int32) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(handle, index)
        case .int(let i):
            return sqlite3_bind_int64(handle, index, i)
        case .real(let d):
            return sqlite3_bind_double(handle, index, d)
        case .bool(let b):
            return sqlite3_bind_int64(handle, index, b ? 1 : 0)
        case .timestamp(let t):
            return sqlite3_bind_int64(handle, index, t.microseconds)
        case .text(let s):
            // withCString hands over every UTF-8 byte (interior NULs too); the length is explicit.
            return s.withCString { sqlite3_bind_text(handle, index, $0, Int32(s.utf8.count), sqliteTransient) }
        }
    }

    /// Reads a column as `type`, or by its storage class when no type is given.
    func value(at column: Int32, as type: ColumnType?) -> ShardValue {
        let storage = sqlite3_column_type(handle, column)
        if storage == SQLITE_NULL { return .null }
        switch type {
        case .int: return .int(sqlite3_column_int64(handle, column))
        case .real: return .real(sqlite3_column_double(handle, column))
        case .bool: return .bool(sqlite3_column_int64(handle, column) != 0)
        case .timestamp: return .timestamp(Timestamp(microseconds: sqlite3_column_int64(handle, column)))
        case .text: return .text(text(at: column))
        case nil:
            switch storage {
            case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, column))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, column))
            default: return .text(text(at: column))
            }
        }
    }

    private func text(at column: Int32) -> String {
        guard let bytes = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }
}

/// SQLITE_TRANSIENT: SQLite copies the bound bytes before the call returns.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
