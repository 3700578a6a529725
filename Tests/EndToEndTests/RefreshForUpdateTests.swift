import Foundation
import ShardProtocol
import ShardTestSupport
import Testing

/// `refresh` with `for_update` (protocol.md 8): the row stays locked for the session's
/// transaction, on SQLite and PostgreSQL shards; another session's write waits for the
/// commit, or ends with `timeout` past `request_timeout_ms`.
@Suite struct RefreshForUpdateTests {
    static func config(timeoutMs: Int) -> String {
        "[server]\nrequest_timeout_ms = \(timeoutMs)\n" + MixedShards.config + ComputedValueTests.model
    }

    @Test func aSecondWriterWaitsForTheCommit() async throws {
        let daemon = try Daemon(config: Self.config(timeoutMs: 20000), environment: try await MixedShards.environment())
        let a = try daemon.client()
        #expect(try a.request(#"{"op":"add","model":"Item","rows":\#(ComputedValueTests.rows)}"#)["ok"] == .bool(true))
        #expect(try a.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        for (id, shard) in [(1, "one"), (2, "two")] {
            let key = #"["Item",[\#(id)],"\#(shard)"]"#
            let locked = try a.request(#"{"op":"refresh","key":\#(key),"for_update":true}"#)
            #expect(locked["object"]?["values"]?["val"] == .int(-7), "\(shard): \(locked)")

            // The second session's computed update, sent while the row is locked.
            // Used only by the second writer's thread until it is awaited.
            nonisolated(unsafe) let b = try daemon.client()
            // On a thread of its own: a blocking wait on the concurrency pool's few threads
            // could starve this test's own task (and its commit) when other tests run beside it.
            let answered = Task {
                try await onThreads(1) { _ in
                    (try b.request(#"{"op":"update","key":\#(key),"values":{"val":["+","val",10]}}"#), Date())
                }[0]
            }
            try await Task.sleep(for: .milliseconds(500))
            // Only the lock the refresh took holds the second writer back until here.
            #expect(try a.request(#"{"op":"update","key":\#(key),"values":{"val":1}}"#)["ok"] == .bool(true))
            let committing = Date()
            #expect(try a.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
            let (answer, at) = try await answered.value
            // It ran after the commit, on the committed value.
            #expect(at >= committing, "\(shard): answered before the first session committed")
            #expect(answer["object"]?["values"]?["val"] == .int(11), "\(shard): \(answer)")
            #expect(try b.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        }
        // Without for_update nothing is held: a refresh is a read.
        let plain = try a.request(#"{"op":"refresh","key":["Item",[2],"two"]}"#)
        #expect(plain["object"]?["values"]?["val"] == .int(11))
        let other = try daemon.client()
        #expect(try other.request(#"{"op":"update","key":["Item",[2],"two"],"values":{"val":3}}"#)["ok"] == .bool(true))
        #expect(try other.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let missing = try a.request(#"{"op":"refresh","key":["Item",[99],"two"],"for_update":true}"#)
        #expect(missing["error"]?["code"] == .string("not_found"), "\(missing)")
        #expect(try a.request(#"{"op":"refresh","key":["Item",[1],"one"],"for_update":1}"#)["error"]?["code"] == .string("bad_request"))
        #expect(daemon.stop() == 0)
    }

    @Test func aSecondWriterTimesOut() async throws {
        let daemon = try Daemon(config: Self.config(timeoutMs: 400), environment: try await MixedShards.environment())
        let a = try daemon.client(), b = try daemon.client()
        #expect(try a.request(#"{"op":"add","model":"Item","rows":\#(ComputedValueTests.rows)}"#)["ok"] == .bool(true))
        #expect(try a.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        for (id, shard) in [(1, "one"), (2, "two")] {
            let key = #"["Item",[\#(id)],"\#(shard)"]"#
            #expect(try a.request(#"{"op":"refresh","key":\#(key),"for_update":true}"#)["ok"] == .bool(true))
            let answer = try b.request(#"{"op":"update","key":\#(key),"values":{"val":5}}"#)
            #expect(answer["error"]?["code"] == .string("timeout"), "\(shard): \(answer)")
            #expect(try a.request(#"{"op":"rollback"}"#)["ok"] == .bool(true))
            // Released: the same write goes through now.
            #expect(try b.request(#"{"op":"update","key":\#(key),"values":{"val":5}}"#)["ok"] == .bool(true), "\(shard)")
            #expect(try b.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        }
        #expect(daemon.stop() == 0)
    }
}
