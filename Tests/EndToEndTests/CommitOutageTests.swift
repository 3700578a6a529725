import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

/// A PostgreSQL shard of an atomic commit crashes (`pg_ctl stop -m immediate`, its own
/// cluster) before the decision, or after it.
@Suite struct CommitOutageTests {
    static func config() -> String {
        TestConfig.weather(extra: CommitTests.entry)
            .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
    }

    static let shards = ["north_america", "asia", "europe"]

    @Test func crashedBeforeTheDecisionNothingCommitsAnywhere() async throws {
        let directory = TemporaryDirectory()
        let cluster = try OutageTests.Cluster(directory: directory.path, durable: true)
        let daemon = try Daemon(config: Self.config(), environment: ["SHARDD_EUROPE_URL": cluster.url])
        let client = try daemon.client()
        try CommitTests.add(client, Self.shards, first: 1)
        try cluster.run("crash")
        let failed = try client.request(#"{"op":"commit","label":"before"}"#)
        #expect(failed["error"]?["code"] == .string("transaction_failed"), "\(failed)")
        #expect(failed["error"]?["outcome"] == .string("rolled_back"))
        #expect(failed["error"]?["committed"] == .array([]))
        #expect(failed["error"]?["failed"] == .array([.string("europe")]))
        try cluster.run("start")
        let inspection = try ShardInspection(daemon)
        for shard in Self.shards { #expect(try await inspection.count(shard, "SELECT count(*) FROM entry") == 0, "\(shard)") }
        #expect(try await CommitTests.eventuallyNoLeftovers(inspection) == 0)
        #expect(try client.request(#"{"op":"transaction_status","label":"before"}"#)["outcome"] == .string("not_committed"))
        #expect(daemon.stop() == 0)
    }

    @Test func crashedAfterTheDecisionTheCommitSucceedsPendingAndFinishesWhenItIsBack() async throws {
        let directory = TemporaryDirectory()
        let cluster = try OutageTests.Cluster(directory: directory.path, durable: true)
        let hold = directory.path + "/hold"
        FileManager.default.createFile(atPath: hold, contents: nil)
        let daemon = try Daemon(config: Self.config(), environment: ["SHARDD_EUROPE_URL": cluster.url, "SHARDD_FAULT_HOLD": "commit.after_decision:\(hold)"],
                                binary: try Daemon.faultsBinary())
        let client = try daemon.client()
        try CommitTests.add(client, Self.shards, first: 1)
        try client.send(#"{"op":"commit","label":"after"}"#)
        var holding = false
        for _ in 0..<500 where !holding {
            usleep(10_000)
            holding = daemon.log().contains("fault point commit.after_decision: holding")
        }
        #expect(holding, "\(daemon.log())")
        try cluster.run("crash")
        try FileManager.default.removeItem(atPath: hold)
        let answer = try #require(try client.receiveLine().map { try JSONValue.parse($0) })
        #expect(answer["ok"] == .bool(true), "\(answer)")
        #expect(answer["pending"] == .array([.string("europe")]))
        #expect(answer["shards"] == .array([.string("north_america"), .string("asia")]))
        let other = try daemon.client()
        let pending = try other.request(#"{"op":"transactions"}"#)
        guard case .array(let list)? = pending["transactions"], list.count == 1 else { Issue.record("\(pending)"); return }
        #expect(list[0]["label"] == .string("after") && list[0]["pending"] == .array([.string("europe")]))
        #expect(list[0]["state"] == .string("committing") && list[0]["txid"] == answer["txid"])
        #expect(try other.request(#"{"op":"transaction_status","label":"after"}"#)["outcome"] == .string("committed"))
        // shardctl shows it too, as a table and as JSON.
        let table = try ShardctlTests.shardctl(daemon, "transactions")
        #expect(table.status == 0 && table.stdout.contains("committing") && table.stdout.contains("after"), "\(table.output)")
        #expect(table.stdout.split(separator: "\n").first?.split(separator: " ", omittingEmptySubsequences: true) == ["txid", "label", "state", "shards", "pending", "since"])
        let json = try JSONValue.parse(try ShardctlTests.shardctl(daemon, "transactions", "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["transactions"]?[0]?["pending"] == .array([.string("europe")]))

        try cluster.run("start")
        var finished = false
        for _ in 0..<300 where !finished {
            usleep(100_000)
            finished = try other.request(#"{"op":"transactions"}"#)["transactions"] == .array([])
        }
        #expect(finished, "\(daemon.log())")
        let inspection = try ShardInspection(daemon)
        for shard in Self.shards { #expect(try await inspection.count(shard, "SELECT count(*) FROM entry") == 1, "\(shard)") }
        #expect(try await CommitTests.eventuallyNoLeftovers(inspection) == 0)
        #expect(daemon.log().contains("commit recovery: finished transaction"))
        #expect(try ShardctlTests.shardctl(daemon, "transactions").stdout.contains("no transaction waits for a shard"))
        #expect(daemon.stop() == 0)
    }
}
