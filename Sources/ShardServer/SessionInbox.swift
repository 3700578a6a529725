import ShardTransport
import Synchronization

/// A session's inputs in arrival order, from the event loop (frames, timer checks) to the
/// session's task: an `AsyncStream` made for this one element type.
///
/// `AsyncStream`'s storage runs as unspecialized generic code and took about 7% of the
/// daemon's CPU per pipelined `get`. Here an input already queued is taken under one lock with
/// no suspension, and the task suspends only when the queue is empty.
final class SessionInbox: Sendable {
    private struct State {
        var items: [SessionInput] = []
        /// Index of the oldest input not yet taken.
        var head = 0
        var waiter: UnsafeContinuation<SessionInput?, Never>?
        var finished = false

        mutating func take() -> SessionInput? {
            guard head < items.count else { return nil }
            let item = items[head]
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: items.capacity <= 1024)
                head = 0
            }
            return item
        }
    }

    private let state = Mutex(State())

    /// Queues an input, or hands it to the waiting task; ignored once finished.
    func yield(_ input: SessionInput) {
        let waiter = state.withLock { state -> UnsafeContinuation<SessionInput?, Never>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(input)
            return nil
        }
        waiter?.resume(returning: input)
    }

    /// No more inputs: the task gets what is queued, then nil.
    func finish() {
        let waiter = state.withLock { state -> UnsafeContinuation<SessionInput?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The frames queued behind the head now, left in the queue: those at frame offsets
    /// `offsets` (0 is the next frame `next` returns), skipping timer checks and event wake-ups;
    /// none past an `abort`, which changes what the requests after it see.
    func frames(at offsets: Range<Int>) -> [Frame] {
        state.withLock { state in
            var out: [Frame] = []
            var offset = 0
            for index in state.head..<state.items.count where offset < offsets.upperBound {
                switch state.items[index] {
                case .frame(let frame):
                    if offset >= offsets.lowerBound { out.append(frame) }
                    offset += 1
                case .abort: return out
                case .idleCheck, .events: continue
                }
            }
            return out
        }
    }

    /// The next input, waiting for one if none is queued; nil once finished and drained.
    /// One task only calls this (the session's).
    func next() async -> SessionInput? {
        if let item = state.withLock({ $0.take() }) { return item }
        return await withUnsafeContinuation { continuation in
            let ready = state.withLock { state -> SessionInput?? in
                if let item = state.take() { return .some(item) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
