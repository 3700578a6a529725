import ShardCore
import ShardProtocol
import Synchronization

/// The change feed (protocol.md 12): every session's subscriptions, and the events of each
/// committed transaction handed to the subscribers' outboxes.
///
/// Writes ask `interest(in:)` first, so that a model nobody watches costs them one atomic
/// load and nothing is recorded; a subscription sees the writes made after it began.
final class ChangeFeed: Sendable {
    /// What writes of a model must record for the feed.
    struct Interest: Sendable {
        /// The kinds some subscription wants.
        var kinds: Set<ChangeKind>
        /// Whether an update must read its rows before writing (`Subscription.needsOldRows`).
        var oldRowsOfUpdates: Bool
    }

    private struct Subscriber {
        let session: Int
        let subscription: Subscription
        let outbox: EventOutbox
    }

    /// One shard's commits that have changes to tell, in the order they took their place.
    private struct ShardSequence {
        var issued: Int64 = 0
        /// Places up to this one are told (or had nothing to tell).
        var told: Int64 = 0
        /// Places resolved out of turn, waiting for the ones before them.
        var waiting: [Int64: (changes: [RowChange], txid: String?)] = [:]
    }

    /// A transaction's places in the commit order of the shards it changed, with its changes.
    struct Order: Sendable {
        fileprivate var places: [(shard: String, place: Int64)] = []
        fileprivate var changes: [RowChange] = []
    }

    private struct State {
        var subscribers: [Int: Subscriber] = [:]
        var nextID = 1
        /// The last change's number (`seq`): one per published row change.
        var seq: Int64 = 0
        var shards: [String: ShardSequence] = [:]
    }

    private let state = Mutex(State())
    private let open = Atomic<Int>(0)

    /// Subscriptions open now (`shardd_subscriptions`).
    var count: Int { open.load(ordering: .relaxed) }

    /// A new subscription's number.
    func subscribe(_ subscription: Subscription, session: Int, outbox: EventOutbox) -> Int {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = Subscriber(session: session, subscription: subscription, outbox: outbox)
            open.store(state.subscribers.count, ordering: .relaxed)
            return id
        }
    }

    /// Ends one of the session's subscriptions; false when it has none by that number.
    func unsubscribe(_ id: Int, session: Int) -> Bool {
        state.withLock { state in
            guard state.subscribers[id]?.session == session else { return false }
            state.subscribers[id] = nil
            open.store(state.subscribers.count, ordering: .relaxed)
            return true
        }
    }

    /// Ends every subscription of a session (it closed).
    func endAll(session: Int) {
        guard count > 0 else { return }
        state.withLock { state in
            state.subscribers = state.subscribers.filter { $0.value.session != session }
            open.store(state.subscribers.count, ordering: .relaxed)
        }
    }

    /// The session's subscriptions, for `sessions`.
    func subscriptions(of session: Int) -> [Int] {
        guard count > 0 else { return [] }
        return state.withLock { state in state.subscribers.filter { $0.value.session == session }.keys.sorted() }
    }

    /// What a write of `model` must record; nil when no subscription watches it.
    func interest(in model: String) -> Interest? {
        guard count > 0 else { return nil }
        return state.withLock { state in
            var interest: Interest?
            for subscriber in state.subscribers.values where subscriber.subscription.model == model {
                var merged = interest ?? Interest(kinds: [], oldRowsOfUpdates: false)
                merged.kinds.formUnion(subscriber.subscription.events)
                merged.oldRowsOfUpdates = merged.oldRowsOfUpdates || subscriber.subscription.needsOldRows
                interest = merged
            }
            return interest
        }
    }

    /// Takes a committing transaction's place in the order of each shard it changed; call
    /// while the transaction still holds its locks (before its commit), so that a transaction
    /// that waited for them takes a later place. Every order must be `resolve`d.
    func order(_ changes: [RowChange]) -> Order {
        guard !changes.isEmpty else { return Order() }
        var shards: [String] = []
        for change in changes where !shards.contains(change.shard) { shards.append(change.shard) }
        return state.withLock { state in
            var order = Order(changes: changes)
            for shard in shards {
                state.shards[shard, default: ShardSequence()].issued += 1
                order.places.append((shard, state.shards[shard]!.issued))
            }
            return order
        }
    }

    /// The commit ended: the changes of the shards that committed are told, each shard's in
    /// its place; those of the other shards are not (their place is passed over).
    /// - Parameter txid: the transaction's id, for a commit across shards.
    func resolve(_ order: Order, committed: Set<String>, txid: String?) {
        guard !order.places.isEmpty else { return }
        state.withLock { state in
            for (shard, place) in order.places {
                let changes = committed.contains(shard) ? order.changes.filter { $0.shard == shard } : []
                var sequence = state.shards[shard]!
                sequence.waiting[place] = (changes, txid)
                while let next = sequence.waiting.removeValue(forKey: sequence.told + 1) {
                    sequence.told += 1
                    publish(next.changes, txid: next.txid, state: &state)
                }
                // A shard with nothing in flight is forgotten (a removed shard's entry goes too).
                state.shards[shard] = sequence.told == sequence.issued ? nil : sequence
            }
        }
    }

    /// Hands the events of committed changes, in order, to every subscriber they concern.
    /// A subscriber whose outbox is full gets `overflow` and its subscription ends.
    private func publish(_ changes: [RowChange], txid: String?, state: inout State) {
        for change in changes {
            state.seq += 1
            var ended: [Int] = []
            for (id, subscriber) in state.subscribers {
                guard let event = subscriber.subscription.event(for: change) else { continue }
                let line = Self.line(event.kind, subscription: id, seq: state.seq, change: change, matches: event.matches, txid: txid)
                if !subscriber.outbox.append(line) {
                    ended.append(id)
                    subscriber.outbox.appendPastBound(Self.overflow(id))
                }
            }
            for id in ended { state.subscribers[id] = nil }
        }
        open.store(state.subscribers.count, ordering: .relaxed)
    }

    /// `{"event": kind, "subscription", "seq", "key", "values", "matches"?, "txid"?}` and its newline.
    static func line(_ kind: ChangeKind, subscription: Int, seq: Int64, change: RowChange, matches: Bool?, txid: String?) -> [UInt8] {
        let row = change.row
        var values = JSONObject()
        values.members.reserveCapacity(row.count)
        for (column, value) in zip(change.model.columns, row) { values.members.append((column.name, value.responseJSON)) }
        var event = JSONObject([("event", .string(kind.rawValue)), ("subscription", .int(Int64(subscription))), ("seq", .int(seq)),
                                ("key", change.key.responseJSON), ("values", .object(values))])
        if let matches { event.append("matches", .bool(matches)) }
        if let txid { event.append("txid", .string(txid)) }
        var out: [UInt8] = []
        JSONValue.object(event).write(into: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }

    static func overflow(_ subscription: Int) -> [UInt8] {
        var out: [UInt8] = []
        JSONValue.object(JSONObject([("event", .string("overflow")), ("subscription", .int(Int64(subscription)))])).write(into: &out)
        out.append(UInt8(ascii: "\n"))
        return out
    }
}
