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
    /// Up or down, with the backoff of its reconnects.
    package let health = ShardHealth()
    /// The point-select texts of this shard's dialect.
    package let pointSelects: PointSelectCache

    package var name: String { spec.name }

    /// Whether reads may run on the caller's thread (`readInline`), a property of the backend.
    package var readsInline: Bool { dialect.readsInline }

    /// How long a caller waits for a connection when all are lent; nil: as long as it takes.
    private let acquireTimeout: Duration?
    /// When a connection was last asked for (uptime nanoseconds), and the value it had when
    /// the idle connections last released their memory.
    private let lastUse = Atomic<UInt64>(0)
    private let releasedAt = Atomic<UInt64>(UInt64.max)

    package init(spec: ShardSpec, dialect: SQLDialect, acquireTimeoutMs: Int? = nil, factory: @escaping ConnectionFactory) {
        self.spec = spec
        self.dialect = dialect
        self.pointSelects = PointSelectCache(dialect: dialect)
        self.factory = factory
        self.acquireTimeout = acquireTimeoutMs.map { .milliseconds($0) }
        self.pool = Mutex(PoolState())
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
        guard readsInline, DispatchTime.now().uptimeNanoseconds < deadline else { return nil }
        let slot = try await acquire()
        // The pool lent the connection to this caller alone: using it here is as exclusive
        // as using it on its queue.
        _ = slot.connection.limitInlineWork(until: deadline)
        let result = Result { try body(slot.connection) }
        let interrupted = slot.connection.limitInlineWork(until: nil)
        giveBack(slot, reusable: slot.clean())
        return interrupted ? nil : try result.get()
    }

    /// Keeps one connection for several calls (a transaction spanning requests).
    /// The lease must be released; until then the connection is not shared.
    package func lease() async throws -> ConnectionLease {
        ConnectionLease(shard: self, slot: try await acquire())
    }

    /// How many connections are open and how many of them are lent out.
    package var poolUse: (open: Int, inUse: Int) {
        pool.withLock { ($0.open, $0.open - $0.idle.count) }
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
        let slots = pool.withLock { state -> [PooledConnection] in
            guard state.waiters.isEmpty, !state.closed else { return [] }
            defer { state.idle = [] }
            return state.idle
        }
        for slot in slots {
            let (_, reusable) = await slot.runAndClean { $0.releaseMemory() }
            giveBack(slot, reusable: reusable)
        }
        releasedAt.store(used, ordering: .relaxed)
        return !slots.isEmpty
    }

    /// Closes idle connections and refuses new work; lent connections close on release.
    package func close() {
        let (idle, waiters) = pool.withLock { state -> ([PooledConnection], [Waiter]) in
            state.closed = true
            let idle = state.idle
            let waiters = state.waiters
            state.open -= idle.count
            state.idle = []
            state.waiters = []
            return (idle, waiters)
        }
        for slot in idle { slot.close() }
        for waiter in waiters { waiter.continuation.resume(throwing: closedError) }
    }

    private var closedError: BackendError {
        BackendError(.unreachable, shard: name, "the shard is closed (the daemon is shutting down)")
    }

    // MARK: - Pool

    private struct PoolState {
        var idle: [PooledConnection] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiter = 0
        var closed = false
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<PooledConnection?, Error>
    }

    private enum Acquisition {
        case reuse(PooledConnection)
        case create
        case wait
        case closed
    }

    fileprivate func acquire() async throws -> PooledConnection {
        lastUse.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
        while true {
            let step = pool.withLock { state -> Acquisition in
                if state.closed { return .closed }
                if let slot = state.idle.popLast() { return .reuse(slot) }
                if state.open < spec.poolSize {
                    state.open += 1
                    return .create
                }
                return .wait
            }
            switch step {
            case .closed:
                throw closedError
            case .reuse(let slot):
                return slot
            case .create:
                do {
                    if let refusal = health.refusal() { throw refusal }
                    let slot = try await open()
                    health.connected()
                    return slot
                } catch {
                    if let failure = error as? BackendError, failure.cause == .unreachable, health.refusal() == nil {
                        health.connectFailed(failure)
                    }
                    // A waiter may now open the connection this one could not.
                    let waiter = pool.withLock { state -> Waiter? in
                        state.open -= 1
                        return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
                    }
                    waiter?.continuation.resume(returning: nil)
                    throw error
                }
            case .wait:
                // nil means "a place came free: try again".
                let timeout = acquireTimeout
                let handed = try await withCheckedThrowingContinuation { continuation in
                    let waiting = pool.withLock { state -> Int? in
                        if state.closed { return nil }
                        if state.idle.isEmpty && state.open >= spec.poolSize {
                            state.nextWaiter += 1
                            state.waiters.append(Waiter(id: state.nextWaiter, continuation: continuation))
                            return state.nextWaiter
                        }
                        return nil
                    }
                    guard let waiting else { return continuation.resume(returning: nil) }
                    if let timeout {
                        Task { [self] in
                            try? await Task.sleep(for: timeout)
                            let expired = pool.withLock { state -> Waiter? in
                                guard let index = state.waiters.firstIndex(where: { $0.id == waiting }) else { return nil }
                                return state.waiters.remove(at: index)
                            }
                            expired?.continuation.resume(throwing: BackendError(
                                .timedOut, shard: name,
                                "every connection to the shard stayed busy for \(timeout) (pool_size \(spec.poolSize), request_timeout_ms)"))
                        }
                    }
                }
                if let handed { return handed }
            }
        }
    }

    private func open() async throws -> PooledConnection {
        let queue = DispatchQueue(label: "shardd.shard.\(name)")
        let factory = self.factory
        let counter = self.statements
        return try await withCheckedThrowingContinuation { continuation in
            queue.async {
                do {
                    let connection = CountingConnection(try factory(), counter: counter)
                    continuation.resume(returning: PooledConnection(connection: connection, queue: queue))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Puts a connection back, or closes it when it is not `reusable`, and wakes a waiter.
    fileprivate func giveBack(_ slot: PooledConnection, reusable: Bool) {
        enum Next { case hand(Waiter), retry(Waiter?), keep }
        var stale: [PooledConnection] = []
        let next = pool.withLock { state -> Next in
            if !reusable || state.closed {
                state.open -= 1
                // A connection lost its server: the idle ones most likely did too (a
                // restart), so they go rather than fail the next callers one by one.
                if !reusable {
                    stale = state.idle
                    state.open -= stale.count
                    state.idle = []
                }
                return .retry(state.waiters.isEmpty ? nil : state.waiters.removeFirst())
            }
            if !state.waiters.isEmpty { return .hand(state.waiters.removeFirst()) }
            state.idle.append(slot)
            return .keep
        }
        for connection in stale { connection.close() }
        switch next {
        case .hand(let waiter):
            waiter.continuation.resume(returning: slot)
        case .retry(let waiter):
            slot.close()
            waiter?.continuation.resume(returning: nil)
        case .keep:
            break
        }
    }
}

/// A connection and the serial queue it is used on.
///
/// `@unchecked Sendable`: the connection is only touched on `queue`, by one holder at a time
/// (the pool lends it to exactly one caller).
final class PooledConnection: @unchecked Sendable {
    let connection: any ShardConnection
    let queue: DispatchQueue

    init(connection: any ShardConnection, queue: DispatchQueue) {
        self.connection = connection
        self.queue = queue
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

/// A connection that counts the parameterised statements it runs (for stats and tests);
/// transaction control through `execute` is not counted, nor statements run through
/// `uncounted` (health probes, admin row counts).
final class CountingConnection: ShardConnection {
    let inner: any ShardConnection
    let counter: StatementCounter

    init(_ inner: any ShardConnection, counter: StatementCounter) {
        self.inner = inner
        self.counter = counter
    }

    func run(_ statement: Statement) throws(BackendError) -> QueryResult {
        counter.increment()
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
    func close() { inner.close() }
    func releaseMemory() { inner.releaseMemory() }
    func limitInlineWork(until deadline: UInt64?) -> Bool { inner.limitInlineWork(until: deadline) }
}

extension ShardConnection {
    /// The connection without its statement counter, for the daemon's own probes.
    package var uncounted: any ShardConnection {
        (self as? CountingConnection)?.inner ?? self
    }
}
