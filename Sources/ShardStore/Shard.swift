import Dispatch
import ShardCore
import ShardProtocol
import Synchronization

/// Opens one connection to a shard. Runs on a thread where blocking is allowed.
package typealias ConnectionFactory = @Sendable () throws(BackendError) -> any ShardConnection

/// One shard: its spec, its SQL dialect and a pool of at most `spec.poolSize` connections.
///
/// Every use of a connection runs on that connection's own serial dispatch queue, never on
/// the async executors: libsqlite3 and libpq calls block.
package final class Shard: Sendable {
    package let spec: ShardSpec
    package let dialect: SQLDialect
    private let factory: ConnectionFactory
    private let pool: Mutex<PoolState>
    /// Statements run through `ShardConnection.run` on this shard's connections.
    package let statements = StatementCounter()
    /// Rows clients must not see while a move runs (docs/moves.md).
    package let hidden = HiddenRows()
    /// Up or down, with the backoff of its reconnects.
    package let health = ShardHealth()
    /// The point-select texts of this shard's dialect.
    package let pointSelects: PointSelectCache

    package var name: String { spec.name }

    /// Whether reads may run on the caller's thread (`readInline`), a property of the backend.
    package var readsInline: Bool { dialect.readsInline }

    /// `request_timeout_ms`: how long a statement may run on a connection opened now, and
    /// how long a caller waits for a connection when all are lent; nil: as long as it takes.
    package let timeout: StatementTimeout
    private var acquireTimeout: Duration? { timeout.milliseconds.map { .milliseconds($0) } }
    /// When a connection was last asked for (uptime nanoseconds), and the value it had when
    /// the idle connections last released their memory.
    private let lastUse = Atomic<UInt64>(0)
    private let releasedAt = Atomic<UInt64>(UInt64.max)
    /// Waiters' timers still running (for tests: a served waiter's timer stops at once).
    private let runningTimers = Atomic<Int>(0)
    private let readsRedone = Atomic<Int>(0)
    /// Reads waiting to go out together, and the batches running (`Shard+BatchedReads`).
    let batchedReads: Mutex<ReadBatchQueue<BatchedRead>>
    /// Batches of more than one read sent, and the reads they held.
    let readBatchStats = Mutex<(batches: Int, reads: Int)>((0, 0))

    /// - Parameter timeout: read by `factory` as it opens each connection.
    package init(spec: ShardSpec, dialect: SQLDialect, timeout: StatementTimeout = StatementTimeout(nil), factory: @escaping ConnectionFactory) {
        self.spec = spec
        self.dialect = dialect
        self.pointSelects = PointSelectCache(dialect: dialect)
        self.factory = factory
        self.timeout = timeout
        self.pool = Mutex(PoolState(machine: PoolStateMachine(size: spec.poolSize)))
        self.batchedReads = Mutex(ReadBatchQueue(runners: Shard.readBatchRunners(poolSize: spec.poolSize), batchLimit: Shard.readBatchLimit))
    }

    /// Lends a pooled connection to `body` for one call, then returns it to the pool.
    /// A transaction the body leaves open is rolled back before anyone else gets the connection.
    ///
    /// - Parameter inlineUntil: first try `readInline(until:_:)` with this deadline; if that
    ///   does not finish the read, run it on the connection's queue.
    package func withConnection<T: Sendable>(
        inlineUntil deadline: UInt64? = nil, _ body: @escaping @Sendable (any ShardConnection) throws -> T
    ) async throws -> T {
        if let deadline, let value = try await readInline(until: deadline, body) { return value }
        let slot = try await acquire()
        let (result, reusable) = await slot.runAndClean(body)
        giveBack(slot, reusable: reusable)
        return try result.get()
    }

    /// Runs a read on the caller's thread instead of hopping to a connection's queue and back
    /// (two cross-thread wake-ups, tens of microseconds), if it finishes by `deadline`
    /// (DispatchTime uptime nanoseconds). Only on SQLite, where a read outside a transaction
    /// rarely meets a lock in WAL mode, and gives up rather than wait here when it does.
    /// PostgreSQL always hops.
    ///
    /// - Returns: nil, with nothing of the read left behind, when the shard is not SQLite, the
    ///   deadline has passed, a statement was still running at the deadline (it is
    ///   interrupted), or one met a lock. `body` must therefore only read, so that it may run
    ///   again elsewhere.
    package func readInline<T>(
        until deadline: UInt64, _ body: (any ShardConnection) throws -> T
    ) async throws -> T? {
        let asked = DispatchTime.now().uptimeNanoseconds
        guard readsInline, asked < deadline else { return nil }
        let slot = try await acquire()
        // The budget bounds the work done on this thread, not the wait for a connection
        // (suspended, the thread serves others). Counting the wait, a point select that waited
        // for the pool under a pipelined load was declined and sent to the queue, where it
        // held a connection longer and made the next wait longer (2.5x the daemon's CPU per get).
        let waited = DispatchTime.now().uptimeNanoseconds - asked
        // The pool lent the connection to this caller alone: using it here is as exclusive
        // as using it on its queue.
        _ = slot.connection.limitInlineWork(until: deadline + waited)
        let result = Result { try body(slot.connection) }
        let stop = slot.connection.limitInlineWork(until: nil)
        giveBack(slot, reusable: slot.clean())
        if stop == .interrupted { readsRedone.add(1, ordering: .relaxed) }
        return stop != .none ? nil : try result.get()
    }

    /// Reads interrupted at their inline deadline and run again on a queue: work thrown
    /// away. Statements are measured as they run, and one whose quicker of its last two
    /// runs took more than half the time left is not started inline, so this stays near 0
    /// (it grows when a statement's cost jumps past the budget between two runs).
    package var readsRedoneCount: Int { readsRedone.load(ordering: .relaxed) }

    /// Keeps one connection for several calls (a transaction spanning requests).
    /// The lease must be released; until then the connection is not shared.
    package func lease() async throws -> ConnectionLease {
        ConnectionLease(shard: self, slot: try await acquire())
    }

    /// Borrowers waiting for a connection, and their timers still running.
    package var waiting: (borrowers: Int, timers: Int) {
        (pool.withLock { $0.machine.waiting.count }, runningTimers.load(ordering: .relaxed))
    }

    /// The most connections the pool opens (`pool_size`, changed by a reload).
    package var poolSize: Int { pool.withLock { $0.machine.size } }

    /// Applies a reloaded `pool_size`: waiters that may now open a connection do, idle
    /// connections beyond the new size close, lent ones as they come back.
    package func resize(to size: Int) {
        batchedReads.withLock { $0.runners = Shard.readBatchRunners(poolSize: size) }
        let (retry, close) = pool.withLock { state -> ([Parked], [PooledConnection]) in
            let (retry, close) = state.machine.resize(to: size)
            return (retry.compactMap { state.parked.removeValue(forKey: $0) }, close)
        }
        for slot in close { slot.close() }
        for waiter in retry { waiter.resume(.retry) }
    }

    /// Applies a reloaded `request_timeout_ms`: connections opened from now on take it; the
    /// idle ones close now, the lent ones when they come back.
    package func retime(_ milliseconds: Int?) {
        guard timeout.milliseconds != milliseconds else { return }
        timeout.set(milliseconds)
        let stale = pool.withLock { $0.machine.dropIdle() }
        for slot in stale { slot.close() }
    }

    /// How many connections are open and how many of them are lent out.
    package var poolUse: (open: Int, inUse: Int) {
        pool.withLock { ($0.machine.openCount, $0.machine.openCount - $0.machine.idleCount) }
    }

    /// Connects once, if the shard is down and its next probe is due (the health monitor's
    /// probe); the pool keeps the connection.
    package func probeIfDue() async {
        guard health.probeDue else { return }
        _ = try? await withConnection { connection in try connection.uncounted.run(SQLDialect.probe) }
    }

    /// When the pool has lent nothing for `quiet`, and not since the last release: frees the
    /// idle connections' caches (on their queues) and returns true. The monitor calls it, so
    /// that a daemon at rest holds little memory; the next reads refill the caches.
    package func releaseMemoryIfIdle(for quiet: Duration) async -> Bool {
        let used = lastUse.load(ordering: .relaxed)
        guard used != releasedAt.load(ordering: .relaxed),
              DispatchTime.now().uptimeNanoseconds - used >= quiet.wholeNanoseconds else { return false }
        let slots = pool.withLock { $0.machine.shrinkIdle() }
        for slot in slots {
            let (_, reusable) = await slot.runAndClean { $0.releaseMemory() }
            giveBack(slot, reusable: reusable)
        }
        releasedAt.store(used, ordering: .relaxed)
        return !slots.isEmpty
    }

    /// Closes idle connections and refuses new work; lent connections close on release.
    package func close() {
        let (idle, waiters) = pool.withLock { state -> ([PooledConnection], [Parked]) in
            let (idle, waiters) = state.machine.close()
            return (idle, waiters.compactMap { state.parked.removeValue(forKey: $0) })
        }
        for slot in idle { slot.close() }
        for waiter in waiters { waiter.resume(throwing: closedError) }
    }

    private var closedError: BackendError {
        BackendError(.unreachable, shard: name, "the shard is closed (the daemon is shutting down)")
    }

    // MARK: - Pool

    /// The pool's decisions, and the borrowers parked on them.
    private struct PoolState {
        var machine: PoolStateMachine<PooledConnection>
        var nextWaiter = 0
        var parked: [PoolStateMachine<PooledConnection>.WaiterID: Parked] = [:]
    }

    /// What a borrower is given: a connection, the task of opening one, or a second try.
    private enum Grant {
        case connection(PooledConnection)
        case open
        case retry
    }

    /// A waiting borrower: its continuation, and the timer that fails it after `acquireTimeout`.
    private struct Parked {
        let continuation: CheckedContinuation<Grant, Error>
        let timer: Task<Void, Never>?

        func resume(_ grant: Grant) {
            timer?.cancel()
            continuation.resume(returning: grant)
        }

        func resume(throwing error: Error) {
            timer?.cancel()
            continuation.resume(throwing: error)
        }
    }

    fileprivate func acquire() async throws -> PooledConnection {
        lastUse.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        while true {
            let grant: Grant
            switch pool.withLock({ $0.machine.leaseWithoutWaiting() }) {
            case .use(let slot)?: return slot
            case .open?: grant = .open
            case .fail?: throw closedError
            case .wait?, nil: grant = try await waitForConnection()
            }
            switch grant {
            case .connection(let slot):
                return slot
            case .retry:
                continue
            case .open:
                do {
                    if let refusal = health.refusal() { throw refusal }
                    let slot = try await open()
                    health.connected()
                    return slot
                } catch {
                    let unreachable = (error as? BackendError)?.cause == .unreachable
                    if let failure = error as? BackendError, unreachable, health.refusal() == nil {
                        health.connectFailed(failure)
                    }
                    openFailed(shardDown: unreachable, waitersFailWith: health.refusal() ?? error)
                    throw error
                }
            }
        }
    }

    /// The slow path of `acquire`: every connection is lent, so the borrower is parked until a
    /// connection, a retry, its timer or its task's cancellation resumes it.
    private func waitForConnection() async throws -> Grant {
        let waiter = pool.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, Error>) in
                let now = pool.withLock { state -> Result<Grant, Error>? in
                    switch state.machine.lease(waiter) {
                    case .use(let slot): return .success(.connection(slot))
                    case .open: return .success(.open)
                    case .fail: return .failure(closedError)
                    case .wait:
                        // Checked under the lock that `stopWaiting` takes: a cancellation
                        // either comes before (seen here) or finds the waiter parked.
                        if Task.isCancelled {
                            _ = state.machine.stopWaiting(waiter)
                            return .failure(CancellationError())
                        }
                        state.parked[waiter] = Parked(continuation: continuation, timer: timer(for: waiter))
                        return nil
                    }
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            stopWaiting(waiter, failing: CancellationError())
        }
    }

    /// Fails a waiter that is still waiting (its timer ran out, or its task was cancelled).
    private func stopWaiting(_ waiter: Int, failing error: Error) {
        let parked = pool.withLock { state -> Parked? in
            guard state.machine.stopWaiting(waiter) else { return nil }
            return state.parked.removeValue(forKey: waiter)
        }
        parked?.resume(throwing: error)
    }

    /// The timer of a parked waiter: cancelled when the waiter is served.
    private func timer(for waiter: Int) -> Task<Void, Never>? {
        guard let timeout = acquireTimeout else { return nil }
        runningTimers.add(1, ordering: .relaxed)
        return Task { [self] in
            defer { runningTimers.subtract(1, ordering: .relaxed) }
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            stopWaiting(waiter, failing: BackendError(
                .timedOut, shard: name,
                "every connection to the shard stayed busy for \(timeout) (pool_size \(poolSize), request_timeout_ms)"))
        }
    }

    /// A connection could not be opened: waiters retry, or fail at once when the shard is down.
    private func openFailed(shardDown: Bool, waitersFailWith error: Error) {
        let (action, parked) = pool.withLock { state -> (PoolStateMachine<PooledConnection>.OpenFailedAction, [Parked]) in
            let action = state.machine.openFailed(shardDown: shardDown)
            switch action {
            case .none: return (action, [])
            case .retry(let waiter): return (action, state.parked.removeValue(forKey: waiter).map { [$0] } ?? [])
            case .fail(let waiters): return (action, waiters.compactMap { state.parked.removeValue(forKey: $0) })
            }
        }
        switch action {
        case .none: break
        case .retry: parked.forEach { $0.resume(.retry) }
        case .fail: parked.forEach { $0.resume(throwing: error) }
        }
    }

    private func open() async throws -> PooledConnection {
        let queue = DispatchQueue(label: "shardd.shard.\(name)")
        let factory = self.factory
        let counter = self.statements
        let hidden = self.hidden
        let generation = timeout.generation
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    let connection = CountingConnection(try factory(), counter: counter, hidden: hidden)
                    continuation.resume(returning: PooledConnection(connection: connection, queue: queue, generation: generation))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Puts a connection back, or closes it when it is not `reusable`, and serves a waiter.
    fileprivate func giveBack(_ slot: PooledConnection, reusable: Bool) {
        if !reusable && slot.connection.isBroken {
            health.connectionLost(BackendError(.unreachable, shard: name, "a connection to the shard broke"))
        }
        // A connection opened under an older request_timeout_ms closes rather than serve again.
        let reusable = reusable && slot.generation == timeout.generation
        let (action, waiter) = pool.withLock { state -> (PoolStateMachine<PooledConnection>.ReleaseAction, Parked?) in
            let action = state.machine.release(slot, reusable: reusable)
            switch action {
            case .keep, .close(_, retry: nil): return (action, nil)
            case .hand(_, let waiter), .close(_, retry: let waiter?): return (action, state.parked.removeValue(forKey: waiter))
            }
        }
        switch action {
        case .keep:
            break
        case .hand(let slot, _):
            waiter?.resume(.connection(slot))
        case .close(let slots, _):
            for slot in slots { slot.close() }
            waiter?.resume(.retry)
        }
    }
}

/// A connection and the serial queue it is used on.
///
/// `@unchecked Sendable`: the pool lends it to one borrower at a time, and only that borrower
/// touches `connection`: on `queue`, or on its own thread (`Shard.readInline`).
final class PooledConnection: @unchecked Sendable {
    let connection: any ShardConnection
    let queue: DispatchQueue
    /// The shard's `StatementTimeout.generation` when it opened.
    let generation: Int

    init(connection: any ShardConnection, queue: DispatchQueue, generation: Int) {
        self.connection = connection
        self.queue = queue
        self.generation = generation
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (any ShardConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body(self.connection) })
            }
        }
    }

    /// Runs `body`, then, in the same hop, rolls back any transaction it left open; says
    /// whether the connection may be lent again.
    func runAndClean<T: Sendable>(
        _ body: @escaping @Sendable (any ShardConnection) throws -> T
    ) async -> (Result<T, Error>, reusable: Bool) {
        await withCheckedContinuation { continuation in
            queue.async {
                let result = Result { try body(self.connection) }
                continuation.resume(returning: (result, self.clean()))
            }
        }
    }

    /// Rolls back a transaction left open; true when the connection is fit to lend again.
    /// Runs where the connection is being used (its queue, or inline by its borrower).
    fileprivate func clean() -> Bool {
        if connection.isInTransaction && !connection.isBroken { try? connection.rollback() }
        return !connection.isBroken && !connection.isInTransaction
    }

    func close() {
        queue.async { self.connection.close() }
    }
}

/// One connection kept by one owner across several calls (a session's transaction).
package final class ConnectionLease: Sendable {
    package let shard: Shard
    private let slot: Mutex<PooledConnection?>

    fileprivate init(shard: Shard, slot: PooledConnection) {
        self.shard = shard
        self.slot = Mutex(slot)
    }

    /// Runs `body` on the leased connection, off the async executors.
    package func run<T: Sendable>(_ body: @escaping @Sendable (any ShardConnection) throws -> T) async throws -> T {
        guard let slot = slot.withLock({ $0 }) else {
            throw BackendError(.unreachable, shard: shard.name, "the connection lease was already released")
        }
        return try await slot.run(body)
    }

    /// Runs a read on the leased connection, inside its open transaction. Where a failed
    /// statement would abort the whole transaction, the read runs in a savepoint, so that
    /// its failure leaves the transaction usable.
    package func read<T: Sendable>(_ body: @escaping @Sendable (any ShardConnection) throws -> T) async throws -> T {
        guard shard.dialect.failedStatementAbortsTransaction else { return try await run(body) }
        return try await run { connection in
            try connection.savepoint(ConnectionLease.readSavepoint)
            do {
                let result = try body(connection)
                try connection.releaseSavepoint(ConnectionLease.readSavepoint)
                return result
            } catch {
                try? connection.rollbackToSavepoint(ConnectionLease.readSavepoint)
                try? connection.releaseSavepoint(ConnectionLease.readSavepoint)
                throw error
            }
        }
    }

    /// The savepoint of a read inside a transaction.
    static let readSavepoint = "shardd_request"

    /// Returns the connection to the pool (rolling back a transaction left open), and
    /// returns once it is back. Later calls do nothing.
    package func release() async {
        guard let slot = take() else { return }
        let reusable = await withCheckedContinuation { continuation in
            slot.queue.async { continuation.resume(returning: slot.clean()) }
        }
        shard.giveBack(slot, reusable: reusable)
    }

    private func take() -> PooledConnection? {
        slot.withLock { s -> PooledConnection? in defer { s = nil }; return s }
    }

    /// A lease dropped without `release()` still gives its connection back, cleaned.
    deinit {
        guard let slot = take() else { return }
        let shard = self.shard
        slot.queue.async { shard.giveBack(slot, reusable: slot.clean()) }
    }
}

/// A count of statements and of the ones that failed, shared by a shard and its connections.
/// A shard's `request_timeout_ms`, which a reload may change: read by each connection as it
/// opens; `generation` counts the changes, so that older connections can be told apart.
package final class StatementTimeout: Sendable {
    private let value: Atomic<Int>
    private let changes = Atomic<Int>(0)

    /// - Parameter milliseconds: nil: unbounded.
    package init(_ milliseconds: Int?) {
        value = Atomic(milliseconds ?? 0)
    }

    package var milliseconds: Int? {
        let ms = value.load(ordering: .relaxed)
        return ms > 0 ? ms : nil
    }

    package var generation: Int { changes.load(ordering: .acquiring) }

    func set(_ milliseconds: Int?) {
        value.store(milliseconds ?? 0, ordering: .relaxed)
        changes.add(1, ordering: .releasing)
    }
}

package final class StatementCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)

    package var value: Int { count.load(ordering: .relaxed) }
    package var errors: Int { failures.load(ordering: .relaxed) }

    func increment() {
        count.add(1, ordering: .relaxed)
    }

    func withdraw() {
        count.subtract(1, ordering: .relaxed)
    }

    func failed() {
        failures.add(1, ordering: .relaxed)
    }
}

/// A connection that counts the parameterised statements it runs (for stats and tests), and
/// keeps rows a move hides out of them (`HiddenRows`); transaction control through `execute`
/// is not counted, nor statements run through `uncounted` (health probes, admin row counts,
/// a move's own work).
final class CountingConnection: ShardConnection {
    let inner: any ShardConnection
    let counter: StatementCounter
    let hidden: HiddenRows

    init(_ inner: any ShardConnection, counter: StatementCounter, hidden: HiddenRows = HiddenRows()) {
        self.inner = inner
        self.counter = counter
        self.hidden = hidden
    }

    func run(_ statement: Statement) throws(BackendError) -> QueryResult {
        counter.increment()
        let statement = hidden.rewriting(statement)
        do {
            return try inner.run(statement)
        } catch {
            // Stopped to be run again on the connection's queue: that run is the one counted.
            if error.cause == .inlineLimit { counter.withdraw() } else { counter.failed() }
            throw error
        }
    }

    func execute(_ sql: String) throws(BackendError) { try inner.execute(sql) }
    var isBroken: Bool { inner.isBroken }
    var isInTransaction: Bool { inner.isInTransaction }
    func begin(recordingChanges: Bool) throws(BackendError) { try inner.begin(recordingChanges: recordingChanges) }
    func commit() throws(BackendError) { try inner.commit() }
    func commitDeferringDurability() throws(BackendError) { try inner.commitDeferringDurability() }
    func syncLog() throws(BackendError) { try inner.syncLog() }
    func rollback() throws(BackendError) { try inner.rollback() }
    var hasChanges: Bool { inner.hasChanges }
    func changeset() throws(BackendError) -> [UInt8] { try inner.changeset() }
    func apply(changeset: [UInt8]) throws(BackendError) { try inner.apply(changeset: changeset) }
    func runReadOnly(_ statement: Statement) throws(BackendError) -> QueryResult {
        counter.increment()
        do {
            return try inner.runReadOnly(statement)
        } catch {
            counter.failed()
            throw error
        }
    }
    func close() { inner.close() }
    func releaseMemory() { inner.releaseMemory() }
    func limitInlineWork(until deadline: UInt64?) -> InlineStop { inner.limitInlineWork(until: deadline) }
    func waitingForLocks<T>(atMostMs ms: Int, _ body: () throws -> T) throws -> T { try inner.waitingForLocks(atMostMs: ms, body) }
    func runBatch(_ statements: [Statement]) -> [Result<QueryResult, BackendError>] {
        let results = inner.runBatch(statements.map(hidden.rewriting))
        for result in results {
            counter.increment()
            if case .failure = result { counter.failed() }
        }
        return results
    }
}

extension ShardConnection {
    /// The connection without its statement counter, for the daemon's own probes.
    package var uncounted: any ShardConnection {
        (self as? CountingConnection)?.inner ?? self
    }
}
