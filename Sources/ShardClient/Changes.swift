/// What a committed write did to a row (protocol.md 12).
public enum ChangeKind: String, Sendable, CaseIterable {
    case insert, update, delete
}

/// One change of a subscribed model, told after the transaction that made it committed:
/// SQLAlchemy's `after_insert` / `after_update` / `after_delete`, across every session of
/// the daemon.
public struct ChangeEvent<Model: ShardModel>: Sendable {
    public let kind: ChangeKind
    /// The row after the write (before it, for a delete), with its identity key.
    public let object: Stored<Model>
    /// Whether the row matches the subscription's `where` after the write: true for an
    /// insert, false for a delete; for an update, the daemon's word (an update is told when
    /// the row matched before or after, so a filtered view drops the rows that stop matching).
    public let matches: Bool
    /// The daemon's number for the change, increasing along the subscription.
    public let seq: Int64
    /// The transaction's id, for a commit across shards.
    public let txid: String?
    /// Which row: model, primary key and shard.
    public var key: IdentityKey { object.key }

    init(_ event: JSONValue) throws(ShardError) {
        guard case .string(let name)? = event["event"], let kind = ChangeKind(rawValue: name),
              case .int(let seq)? = event["seq"], let key = event["key"], let values = event["values"] else {
            throw ShardError.invalidResponse("event \(event) lacks event, seq, key or values")
        }
        self.kind = kind
        self.seq = seq
        object = try Stored<Model>(answer: .object(JSONObject([("key", key), ("values", values)])))
        matches = event["matches"]?.boolValue ?? (kind == .insert)
        txid = event["txid"]?.stringValue
    }
}

/// A subscription's events as they come: an `AsyncSequence` that ends with
/// `subscription_overflow` when they were not read fast enough, or `connection_lost`.
/// Ending the iteration (or dropping the sequence) unsubscribes.
public struct Changes<Model: ShardModel>: AsyncSequence, Sendable {
    public typealias Element = ChangeEvent<Model>
    let feed: EventFeed

    /// The daemon's number for the subscription.
    public var subscription: Int64 { feed.subscription }

    /// Ends the subscription (`unsubscribe`); the iteration ends after the events already received.
    public func cancel() async throws {
        try await feed.cancel()
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: feed.stream.makeAsyncIterator())
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<JSONValue, any Error>.AsyncIterator

        public mutating func next() async throws -> ChangeEvent<Model>? {
            try await base.next().map { event throws in try ChangeEvent<Model>(event) }
        }
    }
}

/// A subscription's event lines, as the dynamic API gives them (`DynamicSession.subscribe`).
public struct DynamicChanges: AsyncSequence, Sendable {
    public typealias Element = JSONValue
    let feed: EventFeed

    /// The daemon's number for the subscription.
    public var subscription: Int64 { feed.subscription }

    /// Ends the subscription (`unsubscribe`).
    public func cancel() async throws {
        try await feed.cancel()
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<JSONValue, any Error>.AsyncIterator {
        feed.stream.makeAsyncIterator()
    }
}

/// One subscription's stream of event lines, fed by the connection's `EventRouter`.
final class EventFeed: Sendable {
    let subscription: Int64
    let stream: AsyncThrowingStream<JSONValue, any Error>
    private let continuation: AsyncThrowingStream<JSONValue, any Error>.Continuation
    private let session: ShardSession

    /// Subscribes (`subscribe`) and routes the subscription's events to a new stream.
    static func subscribe(_ session: ShardSession, model: String, where predicate: Predicate?, events: Set<ChangeKind>?) async throws -> EventFeed {
        var arguments: Arguments = [("model", .string(model))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        if let events {
            arguments.append("events", .array(ChangeKind.allCases.filter(events.contains).map { .string($0.rawValue) }))
        }
        let answer = try await session.perform("subscribe", arguments)
        guard case .int(let subscription)? = answer["subscription"] else { throw ShardError.invalidResponse("to subscribe has no subscription") }
        return EventFeed(session, subscription)
    }

    private init(_ session: ShardSession, _ subscription: Int64) {
        self.session = session
        self.subscription = subscription
        (stream, continuation) = AsyncThrowingStream.makeStream(of: JSONValue.self, bufferingPolicy: .bufferingOldest(EventRouter.streamBuffer))
        let router = session.connection.events
        continuation.onTermination = { [weak session] termination in
            router.unregister(subscription)
            // Given up by its reader: the daemon stops sending (nothing to do once it ended).
            if case .cancelled = termination {
                Task { _ = try? await session?.perform("unsubscribe", [("subscription", .int(subscription))]) }
            }
        }
        router.register(subscription, continuation)
    }

    func cancel() async throws {
        session.connection.events.unregister(subscription)
        _ = try await session.perform("unsubscribe", [("subscription", .int(subscription))])
        continuation.finish()
    }
}

extension ShardSession {
    /// The committed changes of `type`'s rows that match `predicate`, from every session of
    /// the daemon, as they come (protocol.md 12):
    /// ```swift
    /// for try await change in try await session.changes(of: Report.self, where: Column("temperature") >= 80) {
    ///     print(change.kind, change.key, change.object.temperature)
    /// }
    /// ```
    /// The subscription starts before this returns: every later commit is told. Writes through
    /// `sql` or outside the daemon are not. The `where` takes conditions on the model's own
    /// columns (`any` / `has` are refused: an event is decided on the row alone).
    public func changes<Model: ShardModel>(of type: Model.Type, where predicate: Predicate? = nil,
                                           events: Set<ChangeKind>? = nil) async throws -> Changes<Model> {
        Changes(feed: try await EventFeed.subscribe(self, model: Model.modelName, where: predicate, events: events))
    }
}
