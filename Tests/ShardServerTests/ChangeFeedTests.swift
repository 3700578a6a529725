import ShardCore
import ShardProtocol
import Synchronization
import Testing
@testable import ShardServer

/// The feed's order without a daemon: each shard's commits are told in the order they took
/// their place (while holding their locks), whatever order they finish in; a commit that
/// failed is passed over; a full outbox ends its subscription with `overflow`.
@Suite struct ChangeFeedTests {
    static let configuration = try! ConfigLoader.parse(DefaultConfiguration.text, file: "shards.conf", baseDirectory: "/srv", environment: [:])
    static let report = configuration.model(named: "Report")!

    static func insert(_ id: Int64, on shard: String) -> RowChange {
        RowChange(.insert, report, shard: shard, new: [.int(id), .int(1), .real(Double(id)), .null])
    }

    /// The outbox's lines as (event, id, shard).
    static func told(_ outbox: EventOutbox) throws -> [String] {
        var bytes: [UInt8] = []
        while true {
            let before = bytes.count
            guard outbox.take(into: &bytes, limit: 1 << 20) > 0 else { break }
            outbox.written(bytes.count - before)
        }
        return try bytes.split(separator: UInt8(ascii: "\n")).map { line in
            let event = try JSONValue.parse(Array(line))
            let id = event["key"]?[1]?[0]?.intValue.map(String.init) ?? "-"
            return "\(event["event"]?.stringValue ?? "?") \(id) \(event["key"]?[2]?.stringValue ?? "-")"
        }
    }

    @Test func eachShardIsToldInTheOrderOfItsPlaces() throws {
        let feed = ChangeFeed()
        let outbox = EventOutbox(wake: {})
        _ = feed.subscribe(Subscription(model: "Report", filter: nil, events: Set(ChangeKind.allCases)), session: 1, outbox: outbox)
        let first = feed.order([Self.insert(1, on: "asia")])
        let second = feed.order([Self.insert(2, on: "asia"), Self.insert(3, on: "europe")])
        let third = feed.order([Self.insert(4, on: "asia")])
        // The second finishes first: europe is told at once, asia waits for the first.
        feed.resolve(second, committed: ["asia", "europe"], txid: "t2")
        #expect(try Self.told(outbox) == ["insert 3 europe"])
        // The first failed: passed over, and the second's asia part follows.
        feed.resolve(first, committed: [], txid: nil)
        #expect(try Self.told(outbox) == ["insert 2 asia"])
        feed.resolve(third, committed: ["asia"], txid: nil)
        #expect(try Self.told(outbox) == ["insert 4 asia"])
        // Nothing stays in flight: a later commit is told at once.
        feed.resolve(feed.order([Self.insert(5, on: "asia")]), committed: ["asia"], txid: nil)
        #expect(try Self.told(outbox) == ["insert 5 asia"])
    }

    @Test func aPartialCommitTellsTheShardsThatCommitted() throws {
        let feed = ChangeFeed()
        let outbox = EventOutbox(wake: {})
        _ = feed.subscribe(Subscription(model: "Report", filter: nil, events: [.insert]), session: 1, outbox: outbox)
        let order = feed.order([Self.insert(1, on: "asia"), Self.insert(2, on: "europe"), Self.insert(3, on: "asia")])
        feed.resolve(order, committed: ["asia"], txid: "t1")
        #expect(try Self.told(outbox) == ["insert 1 asia", "insert 3 asia"])
    }

    @Test func aFullOutboxEndsItsSubscriptionAlone() throws {
        let feed = ChangeFeed()
        let wakes = Atomic<Int>(0)
        let full = EventOutbox(wake: { wakes.add(1, ordering: .relaxed) }), reading = EventOutbox(wake: {})
        let ended = feed.subscribe(Subscription(model: "Report", filter: nil, events: [.insert]), session: 1, outbox: full)
        _ = feed.subscribe(Subscription(model: "Report", filter: nil, events: [.insert]), session: 2, outbox: reading)
        #expect(feed.count == 2)
        for batch in 0..<11 {
            let changes = (0..<1000).map { Self.insert(Int64(batch * 1000 + $0), on: "asia") }
            feed.resolve(feed.order(changes), committed: ["asia"], txid: nil)
            _ = try Self.told(reading)
        }
        // One wake for all the lines that waited unread.
        #expect(wakes.load(ordering: .relaxed) == 1)
        let lines = try Self.told(full)
        #expect(lines.count == EventOutbox.maxEvents + 1)
        #expect(lines.last == "overflow - -")
        #expect(feed.count == 1 && !feed.unsubscribe(ended, session: 1))
    }
}
