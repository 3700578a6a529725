import NIOCore
import Synchronization

/// Where one request's answer goes: the waiting task's continuation, until the answer, the
/// connection's end or the task's cancellation resumes it (exactly once).
///
/// A cancelled slot stays in the connection's queue: its answer still arrives, in order, and is
/// dropped, so the answers after it still reach their own requests.
final class ResponseSlot: Sendable {
    private enum State {
        case initial
        case waiting(UnsafeContinuation<ByteBuffer, any Error>)
        case cancelled
        case finished
    }

    private let state = Mutex<State>(.initial)

    /// Parks the continuation; false (and the continuation resumed with `CancellationError`)
    /// when the task was cancelled already, in which case nothing must be sent.
    func install(_ continuation: UnsafeContinuation<ByteBuffer, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            guard case .initial = state else { return true }
            state = .waiting(continuation)
            return false
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Delivers the answer (or the connection's failure); ignored after a cancellation.
    func resume(_ result: Result<ByteBuffer, ShardError>) {
        let continuation = state.withLock { state -> UnsafeContinuation<ByteBuffer, any Error>? in
            guard case .waiting(let continuation) = state else {
                if case .initial = state { state = .finished }
                return nil
            }
            state = .finished
            return continuation
        }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    /// The waiting task was cancelled: it gets `CancellationError` now, the answer is dropped later.
    func cancel() {
        let continuation = state.withLock { state -> UnsafeContinuation<ByteBuffer, any Error>? in
            switch state {
            case .initial:
                state = .cancelled
                return nil
            case .waiting(let continuation):
                state = .cancelled
                return continuation
            case .cancelled, .finished:
                return nil
            }
        }
        continuation?.resume(throwing: CancellationError())
    }
}
