/// The decisions of a shard's connection pool, without I/O: which connection a borrower gets,
/// when one is opened, who waits, and what happens to waiters when connections come back,
/// fail to open, time out or are cancelled. `Shard` owns one behind a lock and carries out
/// the actions (opening, closing, resuming waiters, their timers).
///
/// Generic over the connection so that tests drive it with plain values.
package struct PoolStateMachine<Connection> {
    /// A borrower that waits for a connection, by the number the pool gave it.
    package typealias WaiterID = Int

    package private(set) var size: Int
    /// Connections at rest, the most recently returned last (lent first: warm caches).
    private(set) var idle: [Connection] = []
    /// Connections open, lent, or being opened.
    private(set) var open = 0
    /// Borrowers waiting, oldest first.
    private(set) var waiters: [WaiterID] = []
    private(set) var closed = false

    package init(size: Int) {
        precondition(size >= 1)
        self.size = size
    }

    package var idleCount: Int { idle.count }
    package var openCount: Int { open }
    package var waiting: [WaiterID] { waiters }
    package var isClosed: Bool { closed }

    // MARK: - Events

    package enum LeaseAction {
        /// Lend this idle connection.
        case use(Connection)
        /// Open a new connection for the borrower; report `openFailed` if that fails.
        case open
        /// The borrower waits (it is queued): a connection, a retry or a failure will come.
        case wait
        /// The pool is closed.
        case fail
    }

    /// A borrower asks for a connection.
    package mutating func lease(_ waiter: WaiterID) -> LeaseAction {
        if let action = leaseWithoutWaiting() { return action }
        waiters.append(waiter)
        return .wait
    }

    /// A borrower asks for a connection it need not wait for: nil (and nobody queued) when it
    /// would have to wait. The common case costs the borrower no waiter and no suspension.
    package mutating func leaseWithoutWaiting() -> LeaseAction? {
        if closed { return .fail }
        if let connection = idle.popLast() { return .use(connection) }
        if open < size {
            open += 1
            return .open
        }
        return nil
    }

    package enum ReleaseAction {
        /// Keep the connection idle.
        case keep
        /// Hand the connection to this waiter (whose timer stops).
        case hand(Connection, to: WaiterID)
        /// Close these connections; the waiter, if any, asks again (it may open one).
        case close([Connection], retry: WaiterID?)
    }

    /// A borrower gives a connection back; `reusable` is false when it is broken or still in
    /// a transaction.
    package mutating func release(_ connection: Connection, reusable: Bool) -> ReleaseAction {
        if !reusable || closed {
            open -= 1
            var gone = [connection]
            // A connection lost its server: the idle ones most likely did too (a restart),
            // so they go rather than fail the next borrowers one by one.
            if !reusable {
                gone += idle
                open -= idle.count
                idle = []
            }
            return .close(gone, retry: waiters.isEmpty ? nil : waiters.removeFirst())
        }
        if open > size {
            // The pool was made smaller (a reload): shrink as connections come back.
            open -= 1
            return .close([connection], retry: nil)
        }
        if !waiters.isEmpty { return .hand(connection, to: waiters.removeFirst()) }
        idle.append(connection)
        return .keep
    }

    package enum OpenFailedAction {
        /// Nothing more to do.
        case none
        /// This waiter asks again: it may succeed where the failed one did not.
        case retry(WaiterID)
        /// The shard is down: these waiters fail now rather than each try and wait.
        case fail([WaiterID])
    }

    /// Opening a connection (after `.open`) failed; `shardDown` when the shard cannot be reached.
    package mutating func openFailed(shardDown: Bool) -> OpenFailedAction {
        open -= 1
        if waiters.isEmpty { return .none }
        if shardDown {
            defer { waiters = [] }
            return .fail(waiters)
        }
        return .retry(waiters.removeFirst())
    }

    /// A waiter's time ran out (`request_timeout_ms`) or its task was cancelled: true when it
    /// was still waiting and now is not (fail it); false when it was served already.
    package mutating func stopWaiting(_ waiter: WaiterID) -> Bool {
        guard let index = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// The pool's size changes (`pool_size` reloaded). Returns the waiters that may now open a
    /// connection (each asks again) and the idle connections beyond the new size (to close);
    /// lent connections beyond it close as they come back.
    package mutating func resize(to newSize: Int) -> (retry: [WaiterID], close: [Connection]) {
        precondition(newSize >= 1)
        size = newSize
        var close: [Connection] = []
        while open > size, !idle.isEmpty {
            close.append(idle.removeFirst())
            open -= 1
        }
        var retry: [WaiterID] = []
        while open + retry.count < size, !waiters.isEmpty { retry.append(waiters.removeFirst()) }
        return (retry, close)
    }

    /// Takes the idle connections out of the pool, to close (their settings are stale: a
    /// reloaded `request_timeout_ms`); new ones open as borrowers ask.
    package mutating func dropIdle() -> [Connection] {
        defer {
            open -= idle.count
            idle = []
        }
        return idle
    }

    /// The idle connections, lent to the pool itself while it rests (to free their caches):
    /// none while anyone waits. Each comes back through `release`.
    package mutating func shrinkIdle() -> [Connection] {
        guard waiters.isEmpty, !closed else { return [] }
        defer { idle = [] }
        return idle
    }

    /// The pool closes: the idle connections to close and the waiters to fail. Lent
    /// connections close when they come back.
    package mutating func close() -> (idle: [Connection], waiters: [WaiterID]) {
        closed = true
        defer {
            open -= idle.count
            idle = []
            waiters = []
        }
        return (idle, waiters)
    }
}
