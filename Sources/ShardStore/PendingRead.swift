import ShardProtocol
import Synchronization

/// A read handed to a shard's batches without waiting for it (`Shard.readSoon`): its result
/// is kept until asked for, so that the batch that answers it wakes no one who is not yet
/// waiting.
package final class PendingRead: Sendable {
    private enum State {
        case running
        case waited(CheckedContinuation<QueryResult, Error>)
        case done(Result<QueryResult, Error>)
    }

    private let state = Mutex(State.running)

    package init() {}

    /// The read's result, waiting for it if it is still out.
    package func value() async throws -> QueryResult {
        if let done = finished { return try done.get() }
        return try await withCheckedThrowingContinuation { continuation in
            let done = state.withLock { state -> Result<QueryResult, Error>? in
                if case .done(let result) = state { return result }
                state = .waited(continuation)
                return nil
            }
            if let done { continuation.resume(with: done) }
        }
    }

    private var finished: Result<QueryResult, Error>? {
        state.withLock { if case .done(let result) = $0 { result } else { nil } }
    }

    /// Called once, by the batch that ran the read.
    func finish(_ result: Result<QueryResult, Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<QueryResult, Error>? in
            defer { state = .done(result) }
            if case .waited(let continuation) = state { return continuation }
            return nil
        }
        waiter?.resume(with: result)
    }
}
