import Foundation
import ShardProtocol
import ShardTestSupport
import Testing

/// `shardctl query --page-size` and `shardctl watch`, the built binary against a daemon.
@Suite struct ShardctlFeedTests {
    @Test func queryPagesFollowCursorsAndPrintEachPage() throws {
        let daemon = try Daemon()
        try ShardctlTests.seed(daemon)
        let human = try ShardctlTests.shardctl(daemon, "query", "WeatherLocation", "--order-by", "city", "--page-size", "3")
        #expect(human.status == 0, "\(human.output)")
        let lines = human.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "page 1" && lines.contains("page 2") && !lines.contains("page 3"), "\(human.stdout)")
        #expect(lines.filter { $0.hasPrefix(#"["WeatherLocation""#) }.count == 4, "\(human.stdout)")
        #expect(lines.last == "4 objects in 2 pages", "\(human.stdout)")

        let json = try ShardctlTests.shardctl(daemon, "query", "WeatherLocation", "--order-by", "city", "--page-size", "3", "--json")
        let pages = try json.stdout.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        #expect(pages.count == 2 && pages[0]["next"]?.stringValue != nil && pages[1]["next"] == .null, "\(json.stdout)")
        let cities = pages.flatMap { ShardctlTests.elements($0["objects"]).compactMap { $0["values"]?["city"]?.stringValue } }
        #expect(cities == ["London", "New York", "Osaka", "Tokyo"])
        // Resumed after the first page's cursor: the second page alone.
        let resumed = try ShardctlTests.shardctl(daemon, "query", "WeatherLocation", "--order-by", "city", "--page-size", "3", "--json",
                                                 "--after", pages[0]["next"]?.stringValue ?? "")
        #expect(resumed.status == 0 && (try? JSONValue.parse(resumed.stdout.trimmingCharacters(in: .newlines))) == pages[1], "\(resumed.output)")

        let refused = try ShardctlTests.shardctl(daemon, "query", "WeatherLocation", "--page-size", "3", "--limit", "2")
        #expect(refused.status == 64 && refused.stderr.contains("takes no --limit or --offset"), "\(refused.output)")
        let badCursor = try ShardctlTests.shardctl(daemon, "query", "WeatherLocation", "--page-size", "3", "--after", "nonsense")
        #expect(badCursor.status == 1 && badCursor.stderr.contains("error[bad_request]"), "\(badCursor.output)")
        #expect(daemon.stop() == 0)
    }

    @Test func watchPrintsEventsAsTheyCommit() async throws {
        let daemon = try Daemon()
        try ShardctlTests.seed(daemon)
        let socket = daemon.socketPath
        // On a thread of its own: waiting for the process on the concurrency pool would hold
        // one of its few threads until this test's own task, which needs one, has written.
        let watching = Task {
            try await onThreads(1) { _ in
                try ShardctlTests.shardctl(["watch", "Report", "--where", #"[">=","temperature",80]"#, "--count", "2", "--socket", socket])
            }[0]
        }
        let client = try daemon.client()
        // Wait until the watcher subscribed.
        var subscribed = false
        for _ in 0..<100 where !subscribed {
            subscribed = (try client.request(#"{"op":"metrics"}"#)["text"]?.stringValue ?? "").contains("\nshardd_subscriptions 1")
            if !subscribed { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(subscribed)
        #expect(try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":95.0},{"location_id":1,"temperature":3.0}]}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"update","key":["Report",[2],"asia"],"values":{"temperature":20.0}}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let run = try await watching.value
        #expect(run.status == 0, "\(run.output)")
        #expect(run.stderr.contains("watching Report (subscription "), "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(run.stdout)")
        #expect(lines.first?.hasPrefix(#"insert Report [2] on asia  seq "#) == true && lines.first?.contains(#""temperature":95.0"#) == true, "\(run.stdout)")
        #expect(lines.last?.hasPrefix(#"update Report [2] on asia  seq "#) == true && lines.last?.contains("no longer matches") == true, "\(run.stdout)")

        let bad = try ShardctlTests.shardctl(daemon, "watch", "Report", "--events", "insert,upsert")
        #expect(bad.status == 64 && bad.stderr.contains("not \"upsert\""), "\(bad.output)")
        let related = try ShardctlTests.shardctl(daemon, "watch", "Report", "--where", #"["has","location"]"#)
        #expect(related.status == 1 && related.stderr.contains("cannot use any or has"), "\(related.output)")
        #expect(daemon.stop() == 0)
    }
}
