import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// A shard that cannot be reached at start gets its tables once it answers, without a
/// restart (before, every query that reached it failed on a missing table until one).
@Suite struct LateShardTests {
    @Test func aShardDownAtStartGetsItsTablesWhenItAnswers() throws {
        let directory = TemporaryDirectory()
        // The second shard's directory is a plain file: SQLite cannot open it until it goes.
        let blocker = directory.path + "/blocked"
        try "not a directory".write(toFile: blocker, atomically: true, encoding: .utf8)
        let config = """
            [shards.one]
            url = "sqlite:data/one.db"
            [shards.two]
            url = "sqlite:blocked/two.db"

            [models.Item]
            id = "sequence"
            [models.Item.columns]
            id = "int"
            name = { type = "text", index = true }

            """
        let daemon = try Daemon(config: config, in: directory)
        let client = try daemon.client()
        #expect(daemon.log().contains("shard two (sqlite) is unreachable"), "\(daemon.log())")
        let refused = try client.request(#"{"op":"add","model":"Item","shard":"two","values":{"name":"a"}}"#)
        #expect(refused["ok"] == .bool(false), "\(refused)")

        try FileManager.default.removeItem(atPath: blocker)
        var answered = false
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline && !answered {
            usleep(200_000)
            answered = daemon.log().contains("shard two answers now: its tables match the models (2 statement(s) run)")
        }
        #expect(answered, "\(daemon.log())")
        let added = try client.request(#"{"op":"add","model":"Item","shard":"two","values":{"name":"b"}}"#)
        #expect(added["ok"] == .bool(true), "\(added)")
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let all = try client.request(#"{"op":"query","model":"Item"}"#)
        #expect(all["objects"]?.arrayValue?.count == 1 && all["shards"] == .array([.string("one"), .string("two")]), "\(all)")
        #expect(daemon.stop() == 0)
        #expect(try Shardd.run(["--check", "--config", directory.path + "/shards.conf"]).status == 0)
    }
}
