import NIOCore
import Synchronization

/// Where a connection's event lines (protocol.md 12) go: to the stream of their subscription.
///
/// Event lines arrive between answers on the connection's event loop; the stream of a new
/// subscription is registered only once the task that subscribed has its answer, so lines
/// that come before are kept (a bounded number) and handed over at registration.
final class EventRouter: Sendable {
    typealias Continuation = AsyncThrowingStream<JSONValue, any Error>.Continuation

    /// Events a stream may hold unread before the client's own buffer overflows.
    static let streamBuffer = 10_000
    /// Events kept for subscriptions without a stream yet, in all.
    static let earlyLimit = 10_000

    private struct State {
        var streams: [Int64: Continuation] = [:]
        var early: [Int64: [JSONValue]] = [:]
        var earlyCount = 0
        var failure: ShardError?
    }

    private let state = Mutex(State())

    /// Whether an answer line is an event line: the daemon writes `event` first, and answers
    /// start with `id` or `ok`.
    static func isEvent(_ line: ByteBuffer) -> Bool {
        line.readableBytesView.starts(with: #"{"event""#.utf8)
    }

    /// Routes one event line.
    func deliver(_ line: ByteBuffer) {
        guard let event = try? line.withUnsafeReadableBytes({ bytes throws(JSONParseError) in try JSONValue.parse(bytes) }),
              case .int(let subscription)? = event["subscription"] else { return }
        let overflow = event["event"] == .string("overflow")
        let stream = state.withLock { state -> Continuation? in
            if let stream = state.streams[subscription] {
                if overflow { state.streams[subscription] = nil }
                return stream
            }
            guard state.earlyCount < Self.earlyLimit else { return nil }
            state.early[subscription, default: []].append(event)
            state.earlyCount += 1
            return nil
        }
        guard let stream else { return }
        if overflow {
            stream.finish(throwing: Self.overflow(subscription, "the daemon's bound of waiting events was reached"))
        } else if case .dropped = stream.yield(event) {
            unregister(subscription)
            stream.finish(throwing: Self.overflow(subscription, "\(Self.streamBuffer) events were not read from the stream"))
        }
    }

    /// The stream of a subscription the daemon just answered; the events that came first go
    /// into it at once.
    func register(_ subscription: Int64, _ stream: Continuation) {
        let (early, failure) = state.withLock { state -> ([JSONValue], ShardError?) in
            let early = state.early.removeValue(forKey: subscription) ?? []
            state.earlyCount -= early.count
            if state.failure == nil { state.streams[subscription] = stream }
            return (early, state.failure)
        }
        for event in early {
            if event["event"] == .string("overflow") {
                unregister(subscription)
                stream.finish(throwing: Self.overflow(subscription, "the daemon's bound of waiting events was reached"))
                return
            }
            stream.yield(event)
        }
        if let failure { stream.finish(throwing: failure) }
    }

    /// Stops routing a subscription's events.
    func unregister(_ subscription: Int64) {
        state.withLock { state in
            state.streams[subscription] = nil
            state.earlyCount -= state.early.removeValue(forKey: subscription)?.count ?? 0
        }
    }

    /// The connection ended: every stream ends with this error.
    func fail(_ error: ShardError) {
        let streams = state.withLock { state -> [Continuation] in
            if state.failure == nil { state.failure = error }
            defer { state.streams = [:]; state.early = [:]; state.earlyCount = 0 }
            return Array(state.streams.values)
        }
        for stream in streams { stream.finish(throwing: error) }
    }

    static func overflow(_ subscription: Int64, _ why: String) -> ShardError {
        ShardError(.subscriptionOverflow,
                   "subscription \(subscription) ended: \(why); read events as they come, then subscribe again and read what changed meanwhile",
                   details: ["subscription": .int(subscription)])
    }
}
