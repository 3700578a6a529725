import ShardCore
import ShardProtocol

/// One open connection to a shard's database.
///
/// Not `Sendable`: a connection is only ever used inside `Shard.withConnection` or a
/// `ConnectionLease`, one call at a time, on a thread where blocking is allowed.
package protocol ShardConnection: AnyObject {
    /// Runs a parameterised statement (prepared once and cached per connection).
    func run(_ statement: Statement) throws(BackendError) -> QueryResult
    /// Runs SQL without parameters or results (transaction control, DDL).
    func execute(_ sql: String) throws(BackendError)
    /// True once the connection is known to be unusable; the pool then drops it.
    var isBroken: Bool { get }
    /// True while a transaction is open (or failed and not yet rolled back).
    var isInTransaction: Bool { get }
    /// Opens a transaction, a writer's (SQLite takes its write lock at once). With
    /// `recordingChanges` the connection keeps what it changes, for `changeset()`.
    func begin(recordingChanges: Bool) throws(BackendError)
    func commit() throws(BackendError)
    /// COMMIT of a shard's part of an atomic commit, after its decision is durable: SQLite
    /// leaves the fsync to `syncLog` (the decision's changeset stands in until then).
    func commitDeferringDurability() throws(BackendError)
    /// Makes every commit of `commitDeferringDurability` durable (before its decision is
    /// marked completed); a no-op where commits are always durable.
    func syncLog() throws(BackendError)
    func rollback() throws(BackendError)
    /// Whether the open transaction has changed any row (a shard that changed nothing takes
    /// no part in a commit).
    var hasChanges: Bool { get }
    /// The open transaction's changes so far, for a backend that records them (SQLite, begun
    /// with `recordingChanges`): what recovery applies if the daemon dies before this shard commits.
    func changeset() throws(BackendError) -> [UInt8]
    /// Applies a changeset of `changeset()` in a transaction of its own; a conflict aborts it.
    func apply(changeset: [UInt8]) throws(BackendError)
    /// Runs a statement that must only read; one that would write fails with the cause
    /// `notReadOnly` and changes nothing.
    func runReadOnly(_ statement: Statement) throws(BackendError) -> QueryResult
    /// Closes the handle. Called once, by the pool.
    func close()
    /// Frees what the connection caches and can read again (SQLite's page cache); called by
    /// the pool on idle connections so that an idle daemon gives its memory back.
    func releaseMemory()
    /// Bounds the work of the next calls, run on a borrower's thread rather than on the
    /// connection's queue: past `deadline` (DispatchTime uptime nanoseconds) a statement is
    /// interrupted, and one that would wait for another connection's lock fails at once
    /// (both with the cause `inlineLimit`), and one whose quicker of its last two runs on
    /// this connection took more than half the time left (or that has not run here yet) is
    /// not started (the same cause). nil lifts the bound. Returns how the bound being lifted or replaced stopped
    /// a statement, if it did. PostgreSQL connections never run inline: no bound.
    func limitInlineWork(until deadline: UInt64?) -> InlineStop
    /// Runs statements that only read, outside a transaction, each on its own: one result
    /// per statement, in order, one failing leaving the others' results as they are. A
    /// backend with a pipeline (PostgreSQL) sends them together and waits for them together.
    func runBatch(_ statements: [Statement]) -> [Result<QueryResult, BackendError>]
    /// Runs `body` (transactions included) with each wait for another connection's lock
    /// bounded by `ms` rather than the statement timeout; past it, the waiting statement
    /// fails with the cause `timedOut`. For work that must not queue behind an open
    /// transaction for long (a reload's `ALTER TABLE`).
    func waitingForLocks<T>(atMostMs ms: Int, _ body: () throws -> T) throws -> T
}

extension ShardConnection {
    package func limitInlineWork(until deadline: UInt64?) -> InlineStop { .none }

    package func runBatch(_ statements: [Statement]) -> [Result<QueryResult, BackendError>] {
        statements.map { statement in Result { () throws(BackendError) in try run(statement) } }
    }

    package func commitDeferringDurability() throws(BackendError) { try commit() }

    package func syncLog() throws(BackendError) {}

    package func changeset() throws(BackendError) -> [UInt8] {
        throw BackendError(.refused, shard: "", "this backend does not record changesets")
    }

    package func apply(changeset: [UInt8]) throws(BackendError) {
        throw BackendError(.refused, shard: "", "this backend does not apply changesets")
    }
    package func savepoint(_ name: String) throws(BackendError) { try execute("SAVEPOINT \(SQLDialect.quote(name))") }
    package func releaseSavepoint(_ name: String) throws(BackendError) {
        try execute("RELEASE SAVEPOINT \(SQLDialect.quote(name))")
    }
    package func rollbackToSavepoint(_ name: String) throws(BackendError) {
        try execute("ROLLBACK TO SAVEPOINT \(SQLDialect.quote(name))")
    }

    /// Runs a `CREATE ... IF NOT EXISTS`. Two daemons creating the same table at once make
    /// PostgreSQL fail one of them (a unique violation on its catalog, or duplicate_table /
    /// duplicate_object): the object exists then, which is all that was asked.
    package func createIfMissing(_ sql: String) throws(BackendError) {
        do {
            try execute(sql)
        } catch where (error.cause == .exists || error.cause == .constraint) && !isInTransaction {
            return
        }
    }

    /// Runs `body` inside a transaction: committed when it returns, rolled back when it throws.
    package func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try begin(recordingChanges: false)
        do {
            let result = try body()
            try commit()
            return result
        } catch {
            try? rollback()
            throw error
        }
    }
}
