import ShardCore
import ShardProtocol

/// The session's side of the change feed (protocol.md 12): its subscriptions, and the rows
/// its transaction changed, told to the feed once they are committed.
extension Session {
    func subscribe(_ request: SubscribeRequest) -> JSONObject {
        let number = context.feed.subscribe(request.subscription, session: id, outbox: outbox)
        return JSONObject([("subscription", .int(Int64(number)))])
    }

    /// `unsubscribed` is false for a number that is not one of this session's open
    /// subscriptions (one that ended with `overflow`, or never was).
    func unsubscribe(_ subscription: Int) -> JSONObject {
        JSONObject([("unsubscribed", .bool(context.feed.unsubscribe(subscription, session: id)))])
    }

    /// Keeps the rows a successful write request changed with the transaction, for its commit.
    func recordChanges(_ changes: [RowChange]) {
        guard !changes.isEmpty else { return }
        transaction?.changes += changes
    }
}
