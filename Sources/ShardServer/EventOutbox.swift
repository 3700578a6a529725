import Synchronization

/// A session's event lines not yet handed to its socket (protocol.md 12), bounded so that a
/// subscriber that does not read costs the daemon at most `maxEvents` lines or `maxBytes`.
///
/// Committing sessions append (under this lock only, never waiting for the subscriber);
/// the subscriber's own task takes the lines and writes them between its responses.
final class EventOutbox: Sendable {
    static let maxEvents = 10_000
    static let maxBytes = 16 << 20
    /// Event bytes handed to the channel and not yet written to the socket: the channel's
    /// own buffer (sized for pipelined answers) must not hold the lines the bound is about.
    static let maxInFlight = 256 << 10

    private struct State {
        var lines: [[UInt8]] = []
        var head = 0
        var bytes = 0
        var closed = false
        /// The session's task was told and has not taken lines since: one wake is enough.
        var woken = false
        var inFlight = 0
    }

    private let state = Mutex(State())
    /// Tells the session's task that lines wait (it may be waiting for a request).
    private let wake: @Sendable () -> Void

    init(wake: @escaping @Sendable () -> Void) {
        self.wake = wake
    }

    /// Queues one event line; false when it would pass the bound (nothing queued).
    func append(_ line: [UInt8]) -> Bool {
        let outcome = state.withLock { state -> (queued: Bool, wake: Bool) in
            guard !state.closed else { return (true, false) }
            guard state.lines.count - state.head < Self.maxEvents, state.bytes + line.count <= Self.maxBytes else { return (false, false) }
            state.lines.append(line)
            state.bytes += line.count
            defer { state.woken = true }
            return (true, !state.woken)
        }
        if outcome.wake { wake() }
        return outcome.queued
    }

    /// Queues a line past the bound: the `overflow` that ends a subscription.
    func appendPastBound(_ line: [UInt8]) {
        let wakes = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.lines.append(line)
            state.bytes += line.count
            defer { state.woken = true }
            return !state.woken
        }
        if wakes { wake() }
    }

    /// Moves up to `limit` bytes of queued lines (at least one line) into `out`, unless
    /// `maxInFlight` bytes are on their way already; the number of lines moved. The caller
    /// reports them `written` once the socket took them.
    func take(into out: inout [UInt8], limit: Int) -> Int {
        state.withLock { state in
            state.woken = false
            guard state.inFlight < Self.maxInFlight else { return 0 }
            let start = out.count
            defer { state.inFlight += out.count - start }
            var taken = 0
            while state.head < state.lines.count, taken == 0 || out.count - start + state.lines[state.head].count <= limit {
                let line = state.lines[state.head]
                out += line
                state.bytes -= line.count
                state.lines[state.head] = []
                state.head += 1
                taken += 1
            }
            if state.head == state.lines.count {
                state.lines.removeAll(keepingCapacity: state.lines.capacity <= 1024)
                state.head = 0
            }
            return taken
        }
    }

    /// Bytes `take` gave out reached the socket: more may go, and the session's task is told
    /// when lines wait.
    func written(_ bytes: Int) {
        let wakes = state.withLock { state -> Bool in
            state.inFlight -= bytes
            guard state.head < state.lines.count, !state.woken else { return false }
            state.woken = true
            return true
        }
        if wakes { wake() }
    }

    var isEmpty: Bool { state.withLock { $0.head == $0.lines.count } }

    /// The session ended: what is queued is dropped, later lines are ignored.
    func close() {
        state.withLock { state in
            state.closed = true
            state.lines = []
            state.head = 0
            state.bytes = 0
        }
    }
}
