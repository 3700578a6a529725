import Foundation
import ShardProtocol
import ShardTestSupport
import Testing

/// The change feed (protocol.md 12) on SQLite and PostgreSQL shards: events after commits,
/// none for rolled-back work, the `where` on the row before and after, one event per row of
/// `update_where` / `delete_where`, and a subscriber that does not read ending alone.
@Suite struct ChangeFeedTests {
    static let config = MixedShards.config + ComputedValueTests.model

    static func ids(_ events: [JSONValue]) -> [Int64] { events.compactMap { $0["key"]?[1]?[0]?.intValue } }

    @Test func eventsFollowCommitsOfEveryWriteOp() async throws {
        let daemon = try Daemon(config: Self.config, environment: try await MixedShards.environment())
        let s = try daemon.client(), w = try daemon.client()
        let hot = try s.request(#"{"op":"subscribe","model":"Item","where":[">=","val",10]}"#)
        guard case .int(let subscription)? = hot["subscription"] else { Issue.record("\(hot)"); return }
        let deletes = try s.request(#"{"op":"subscribe","model":"Item","events":["delete"]}"#)["subscription"]?.intValue

        // An add across shards: nothing before the commit, the matching rows after it.
        #expect(try w.request(#"{"op":"add","model":"Item","rows":[{"id":1,"region":"n","val":20},{"id":2,"region":"e","val":5},{"id":3,"region":"s","val":30},{"id":4,"region":"w","val":40}]}"#)["ok"] == .bool(true))
        #expect(try s.nextEvent(within: 0.3) == nil)
        let committed = try w.request(#"{"op":"commit"}"#)
        let inserts = try s.drainEvents()
        #expect(Self.ids(inserts) == [1, 3, 4], "\(inserts)")
        for event in inserts {
            #expect(event["event"] == .string("insert") && event["subscription"] == .int(subscription))
            #expect(event["txid"] != nil && event["txid"] == committed["txid"], "\(event) \(committed)")
            #expect(event["matches"] == nil && event["ok"] == nil)
        }
        let tokens: [JSONValue?] = inserts.map { $0["key"]?[2] }
        #expect(tokens == [.string("one"), .string("three"), .string("four")])
        #expect(inserts[2]["values"]?["val"] == .int(40) && inserts[2]["values"]?["region"] == .string("w"))
        let seqs = inserts.compactMap { $0["seq"]?.intValue }
        #expect(seqs.count == 3 && zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 })

        // Rolled back: no event.
        #expect(try w.request(#"{"op":"add","model":"Item","values":{"id":5,"region":"n","val":50}}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"rollback"}"#)["ok"] == .bool(true))
        #expect(try s.drainEvents().isEmpty)

        // update by key on SQLite: it matched before, not after; no txid on one shard.
        #expect(try w.request(#"{"op":"update","key":["Item",[1],"one"],"values":{"val":3}}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"update","key":["Item",[2],"two"],"values":{"val":6}}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let updates = try s.drainEvents()
        #expect(updates.count == 1 && updates.first?["event"] == .string("update"), "\(updates)")
        #expect(updates.first?["matches"] == .bool(false) && updates.first?["values"]?["val"] == .int(3) && updates.first?["txid"] == nil)
        #expect(updates.first.flatMap { $0["seq"]?.intValue } ?? 0 > seqs.last ?? .max)

        // update_where with a computed value over three shards (two PostgreSQL, one SQLite): one
        // event per row, with the shard's result.
        let bulk = try w.request(#"{"op":"update_where","model":"Item","where":["in","region",["e","s","w"]],"values":{"val":["+","val",10]}}"#)
        #expect(bulk["count"] == .int(3), "\(bulk)")
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let computed = try s.drainEvents().sorted { ($0["key"]?[1]?[0]?.intValue ?? 0) < ($1["key"]?[1]?[0]?.intValue ?? 0) }
        #expect(Self.ids(computed) == [2, 3, 4], "\(computed)")
        let computedValues: [JSONValue?] = computed.map { $0["values"]?["val"] }
        #expect(computedValues == [.int(16), .int(40), .int(50)])
        #expect(computed.allSatisfy { $0["matches"] == .bool(true) && $0["txid"] != nil })

        // delete by key, delete_where: the rows as they were, to both subscriptions.
        #expect(try w.request(#"{"op":"delete","key":["Item",[3],"three"]}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"delete_where","model":"Item","where":["<","val",10]}"#)["count"] == .int(1))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let gone = try s.drainEvents()
        #expect(gone.allSatisfy { $0["event"] == .string("delete") }, "\(gone)")
        let goneValues: [JSONValue?] = gone.filter { $0["subscription"] == .int(subscription) }.map { $0["values"]?["val"] }
        #expect(goneValues == [.int(40)], "\(gone)")
        #expect(Set(Self.ids(gone.filter { $0["subscription"]?.intValue == deletes })) == [1, 3], "\(gone)")

        // Events wait for the subscriber's own requests to be answered, in order.
        #expect(try w.request(#"{"op":"add","model":"Item","values":{"id":6,"region":"s","val":60}}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try s.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        let metrics = try s.request(#"{"op":"metrics"}"#)["text"]?.stringValue ?? ""
        #expect(metrics.contains("\nshardd_subscriptions 2"), "\(metrics.split(separator: "\n").filter { $0.contains("subscriptions") })")
        #expect(Self.ids(try s.drainEvents()) == [6])
        // The admin view names each session's subscriptions.
        let sessions = try w.request(#"{"op":"sessions"}"#)["sessions"]?.arrayValue ?? []
        let subscribed = sessions.filter { $0["subscriptions"]?.arrayValue?.isEmpty == false }
        #expect(subscribed.count == 1 && subscribed.first?["subscriptions"] == .array([.int(subscription), .int(deletes ?? 0)]), "\(sessions)")

        #expect(try s.request(#"{"op":"unsubscribe","subscription":\#(subscription)}"#)["unsubscribed"] == .bool(true))
        #expect(try s.request(#"{"op":"unsubscribe","subscription":\#(subscription)}"#)["unsubscribed"] == .bool(false))
        // Another session's subscription is not this one's to end.
        #expect(try w.request(#"{"op":"unsubscribe","subscription":\#(deletes ?? 0)}"#)["unsubscribed"] == .bool(false))
        #expect(try w.request(#"{"op":"add","model":"Item","values":{"id":7,"region":"s","val":70}}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try s.drainEvents().isEmpty)
        #expect(daemon.stop() == 0)
    }

    @Test func aSubscriberThatDoesNotReadOverflowsAlone() async throws {
        let daemon = try Daemon(config: Self.config, environment: try await MixedShards.environment())
        let s = try daemon.client(), w = try daemon.client(), reader = try daemon.client()
        let number = try s.request(#"{"op":"subscribe","model":"Item"}"#)["subscription"]?.intValue
        // A second subscriber that reads is not held up by the one that does not.
        #expect(try reader.request(#"{"op":"subscribe","model":"Item","where":["=","id",100]}"#)["ok"] == .bool(true))
        let rows = (100..<2100).map { #"{"id":\#($0),"region":"n","val":0}"# }.joined(separator: ",")
        #expect(try w.request(#"{"op":"add","model":"Item","rows":[\#(rows)]}"#)["ok"] == .bool(true))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        for _ in 0..<8 {
            #expect(try w.request(#"{"op":"update_where","model":"Item","values":{"val":["+","val",1]}}"#)["count"] == .int(2000))
            #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        }
        let kinds: [JSONValue?] = try reader.drainEvents().map { $0["event"] }
        #expect(kinds == [.string("insert")] + Array(repeating: .string("update"), count: 8))

        // 18,000 events for a subscriber that read none: it gets what fitted, then overflow.
        var events: [JSONValue] = []
        while let event = try s.nextEvent(within: 5) {
            events.append(event)
            if event["event"] == .string("overflow") { break }
        }
        #expect(events.last?["event"] == .string("overflow") && events.last?["subscription"]?.intValue == number, "\(events.last.map(\.serialized) ?? "none")")
        #expect(events.count > 10_000 && events.count < 18_000, "\(events.count) events, \(events.first.map(\.serialized) ?? "")")
        let seqs = events.dropLast().compactMap { $0["seq"]?.intValue }
        #expect(zip(seqs, seqs.dropFirst()).allSatisfy { $0 < $1 })
        // The subscription ended; the session goes on.
        #expect(try s.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(try w.request(#"{"op":"update_where","model":"Item","where":["=","id",100],"values":{"val":0}}"#)["count"] == .int(1))
        #expect(try w.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try s.drainEvents().isEmpty)
        #expect(try s.request(#"{"op":"unsubscribe","subscription":\#(number ?? 0)}"#)["unsubscribed"] == .bool(false))
        #expect(try reader.drainEvents().count == 1)
        #expect(daemon.stop() == 0)
    }
}
