import ShardCore
import ShardProtocol
import Synchronization

/// Whether a shard is reachable, as the pool has seen it: down after a connection could not
/// be made, up again after one could. While down, callers fail fast (no connect attempt,
/// no wait for a connect timeout) until the next probe is due; the probe interval doubles
/// from 0.5 s to 30 s.
package final class ShardHealth: Sendable {
    package struct State: Sendable {
        package var down = false
        /// The reason the last connect failed.
        package var reason: BackendError?
        var nextProbe = ContinuousClock.now
        var backoff: Duration = .milliseconds(500)
    }

    private let state = Mutex(State())
    /// Told of every change between up and down: (down, reason).
    private let onChange: Mutex<(@Sendable (Bool, BackendError?) -> Void)?> = Mutex(nil)

    package init() {}

    package var isDown: Bool { state.withLock { $0.down } }
    package var snapshot: State { state.withLock { $0 } }

    package func onStateChange(_ handler: @escaping @Sendable (Bool, BackendError?) -> Void) {
        onChange.withLock { $0 = handler }
    }

    /// The error to fail with now instead of trying to connect, or nil to try.
    func refusal() -> BackendError? {
        state.withLock { state in
            guard state.down, let reason = state.reason, ContinuousClock.now < state.nextProbe else { return nil }
            var error = reason
            error.message = "the shard is down (\(reason.message)); shardd retries by itself"
            return error
        }
    }

    /// True when a down shard's next probe is due (for the monitor).
    var probeDue: Bool { state.withLock { $0.down && ContinuousClock.now >= $0.nextProbe } }

    func connectFailed(_ error: BackendError) {
        let changed = state.withLock { state -> Bool in
            let was = state.down
            state.down = true
            state.reason = error
            state.nextProbe = ContinuousClock.now + state.backoff
            state.backoff = min(state.backoff * 2, .seconds(30))
            return !was
        }
        if changed { onChange.withLock { $0 }?(true, error) }
    }

    /// A connection that was open broke (its server went away, or restarted): the shard
    /// counts as down until the monitor's next probe, due at once, says otherwise. Callers
    /// still try to connect meanwhile (the probe is due), so a restart costs them nothing.
    func connectionLost(_ error: BackendError) {
        let changed = state.withLock { state -> Bool in
            guard !state.down else { return false }
            state.down = true
            state.reason = error
            state.nextProbe = ContinuousClock.now
            return true
        }
        if changed { onChange.withLock { $0 }?(true, error) }
    }

    func connected() {
        let changed = state.withLock { state -> Bool in
            let was = state.down
            state = State()
            return was
        }
        if changed { onChange.withLock { $0 }?(false, nil) }
    }
}
