import Synchronization

/// One session's idle-transaction timer: re-armed after each request that leaves a
/// transaction open, with at most one sleeping task per session (a task per request would
/// pile up tens of thousands of sleepers under load).
final class IdleTimer: Sendable {
    private struct State {
        var deadline: ContinuousClock.Instant?
        /// The session's request count when armed: the check is void if requests came since.
        var mark = 0
        var sleeping = false
    }

    private let limit: Duration
    private let fire: @Sendable (Int) -> Void
    private let state = Mutex(State())

    /// - Parameter fire: called with the mark once the limit passed since the last `arm`.
    init(limit: Duration, fire: @escaping @Sendable (Int) -> Void) {
        self.limit = limit
        self.fire = fire
    }

    func arm(mark: Int) {
        let start = state.withLock { state -> Bool in
            state.deadline = .now + limit
            state.mark = mark
            guard !state.sleeping else { return false }
            state.sleeping = true
            return true
        }
        if start { Task { await self.sleep() } }
    }

    func disarm() {
        state.withLock { $0.deadline = nil }
    }

    private func sleep() async {
        while true {
            guard let deadline = state.withLock({ $0.deadline }) else {
                state.withLock { $0.sleeping = false }
                return
            }
            try? await Task.sleep(until: deadline, clock: .continuous)
            let due = state.withLock { state -> Int? in
                guard let current = state.deadline else { state.sleeping = false; return nil }
                // Re-armed while asleep: sleep on to the new deadline.
                guard current <= .now else { return -1 }
                state.deadline = nil
                state.sleeping = false
                return state.mark
            }
            guard let mark = due else { return }
            if mark == -1 { continue }
            fire(mark)
            return
        }
    }
}
