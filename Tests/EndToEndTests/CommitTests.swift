import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

/// Atomic commits (protocol.md 6.1) against a running daemon, on 4 SQLite shards and on
/// 2 SQLite + 2 PostgreSQL: answers, labels, what is left on the shards.
@Suite struct CommitTests {
    /// A ledger placed by explicit shard, so that a test chooses which shards a commit spans.
    static let entry = """

        [models.Entry]
        id = "client"
        [models.Entry.columns]
        id = "int"
        account = "text"
        amount = "int"

        """

    enum Layout: String, CaseIterable, Sendable {
        case sqlite, mixed
        /// Shards in file order; the first and second are SQLite and, mixed, PostgreSQL.
        var shards: [String] {
            switch self {
            case .sqlite: ["north_america", "asia", "europe", "south_america"]
            case .mixed: ["one", "two", "three", "four"]
            }
        }
    }

    static func config(_ layout: Layout, server: String = "") async throws -> (String, [String: String]) {
        switch layout {
        case .sqlite:
            return (TestConfig.weather(server: server, extra: entry), [:])
        case .mixed:
            let head = server.isEmpty ? "" : "[server]\n\(server)\n"
            return (head + MixedShards.config + entry, try await MixedShards.environment())
        }
    }

    static func start(_ layout: Layout, server: String = "", binary: String? = nil, environment extra: [String: String] = [:]) async throws -> Daemon {
        let (config, environment) = try await config(layout, server: server)
        return try Daemon(config: config, environment: environment.merging(extra) { $1 }, binary: binary)
    }

    /// Adds one entry on each of `shards` (ids from `first`), each amount `amount`.
    static func add(_ client: LineClient, _ shards: [String], first: Int, amount: Int = 10) throws {
        for (offset, shard) in shards.enumerated() {
            let answer = try client.request(#"{"op":"add","model":"Entry","shard":"\#(shard)","values":{"id":\#(first + offset),"account":"a\#(first + offset)","amount":\#(amount)}}"#)
            #expect(answer["ok"] == .bool(true), "\(answer)")
        }
    }

    /// Polls until nothing of the daemon's commits is left on its shards (markers are deleted
    /// in the background after a commit completes).
    static func eventuallyNoLeftovers(_ inspection: ShardInspection) async throws -> Int64 {
        var left: Int64 = -1
        for _ in 0..<300 {
            left = try await inspection.leftovers()
            if left == 0 { return 0 }
            try await Task.sleep(for: .milliseconds(20))
        }
        return left
    }

    @Test(arguments: Layout.allCases)
    func aCommitAcrossShardsIsAtomicAndLeavesNothingBehind(_ layout: Layout) async throws {
        let daemon = try await Self.start(layout)
        let client = try daemon.client()
        let shards = layout.shards
        try Self.add(client, Array(shards.prefix(3)), first: 1)
        let answer = try client.request(#"{"op":"commit","label":"three-shards"}"#)
        #expect(answer["ok"] == .bool(true), "\(answer)")
        #expect(answer["shards"] == .array(shards.prefix(3).map(JSONValue.string)))
        #expect(answer["txid"]?.stringValue?.split(separator: "-").count == 3, "\(answer)")
        #expect(answer["pending"] == nil)

        let inspection = try ShardInspection(daemon)
        for shard in shards.prefix(3) { #expect(try await inspection.count(shard, "SELECT count(*) FROM entry") == 1, "\(shard)") }
        #expect(try await Self.eventuallyNoLeftovers(inspection) == 0)
        #expect(try client.request(#"{"op":"transactions"}"#)["transactions"] == .array([]))
        #expect(try client.request(#"{"op":"transaction_status","label":"three-shards"}"#)["outcome"] == .string("committed"))
        #expect(try client.request(#"{"op":"transaction_status","label":"never-seen"}"#)["outcome"] == .string("not_committed"))

        // One shard: committed alone, no txid, no decision.
        try Self.add(client, [shards[3]], first: 10)
        let alone = try client.request(#"{"op":"commit","label":"one-shard"}"#)
        #expect(alone["shards"] == .array([.string(shards[3])]) && alone["txid"] == nil, "\(alone)")
        let log = try Data(contentsOf: URL(fileURLWithPath: daemon.directory.path + "/data/commits.log"))
        #expect(daemon.stop() == 0)

        // Labels survive a restart: they were written with the commits.
        let again = try daemon.restart()
        let client2 = try again.client()
        #expect(try client2.request(#"{"op":"transaction_status","label":"three-shards"}"#)["outcome"] == .string("committed"))
        #expect(try client2.request(#"{"op":"transaction_status","label":"one-shard"}"#)["outcome"] == .string("committed"))
        #expect(try client2.request(#"{"op":"transaction_status","label":"never-seen"}"#)["outcome"] == .string("not_committed"))
        #expect(log.count > CommitLogFormat.header.count, "the cross-shard decision was logged")
        #expect(again.stop() == 0)
    }

    @Test func shardsThatOnlyReadTakeNoPartAndOneShardNeedsNoDecision() async throws {
        let daemon = try await Self.start(.sqlite)
        let client = try daemon.client()
        try Self.add(client, ["asia"], first: 1)
        // A write request on every shard that changes rows on none.
        #expect(try client.request(#"{"op":"update_where","model":"Entry","where":{"account":"nobody"},"values":{"amount":1}}"#)["count"] == .int(0))
        let answer = try client.request(#"{"op":"commit"}"#)
        #expect(answer["ok"] == .bool(true) && answer["txid"] == nil, "one shard changed rows: \(answer)")
        #expect(answer["shards"] == .array(["north_america", "asia", "europe", "south_america"].map(JSONValue.string)))
        let log = try Data(contentsOf: URL(fileURLWithPath: daemon.directory.path + "/data/commits.log"))
        #expect(log.count == CommitLogFormat.header.count, "no decision for a commit on one shard")
        #expect(daemon.stop() == 0)
    }

    @Test func labelsAreChecked() async throws {
        let daemon = try await Self.start(.sqlite)
        let client = try daemon.client()
        let long = String(repeating: "x", count: 65)
        #expect(try client.request(#"{"op":"commit","label":"\#(long)"}"#)["error"]?["code"] == .string("bad_request"))
        #expect(try client.request(#"{"op":"commit","label":""}"#)["error"]?["code"] == .string("bad_request"))
        #expect(try client.request(#"{"op":"transaction_status"}"#)["error"]?["code"] == .string("bad_request"))
        #expect(try client.request(#"{"op":"commit","label":"nothing-to-do"}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    /// A PostgreSQL shard that loses the session's connection before the commit: nothing is
    /// committed anywhere (with best_effort the SQLite shard would have committed).
    @Test func aShardLostBeforeTheDecisionRollsEveryShardBack() async throws {
        let application = "shardd_commit_\(UInt32.random(in: 0...UInt32.max))"
        var (config, environment) = try await Self.config(.mixed)
        environment["SHARDD_PG_A"]! += "&application_name=\(application)"
        let daemon = try Daemon(config: config, environment: environment)
        let client = try daemon.client()
        try Self.add(client, ["one", "two", "three"], first: 1)
        let admin = Shard.open(ShardSpec(name: "admin", location: .postgres(uri: try TestPostgres.baseURL()), poolSize: 1))
        defer { admin.close() }
        _ = try await admin.withConnection {
            try $0.run(Statement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [.text(application)]))
        }
        try await Task.sleep(for: .milliseconds(100))
        let failed = try client.request(#"{"op":"commit","label":"lost"}"#)
        #expect(failed["error"]?["code"] == .string("transaction_failed"), "\(failed)")
        #expect(failed["error"]?["outcome"] == .string("rolled_back"))
        #expect(failed["error"]?["committed"] == .array([]))
        #expect(failed["error"]?["failed"] == .array([.string("two")]))
        let inspection = try ShardInspection(daemon)
        for shard in ["one", "two", "three"] { #expect(try await inspection.count(shard, "SELECT count(*) FROM entry") == 0, "\(shard)") }
        #expect(try await Self.eventuallyNoLeftovers(inspection) == 0)
        #expect(try client.request(#"{"op":"transaction_status","label":"lost"}"#)["outcome"] == .string("not_committed"))
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    /// Label rows live 24 hours (protocol.md 6.1): older ones are deleted on every shard, at
    /// start and hourly, and the newer ones still answer.
    @Test func labelsOlderThanADayAreDeleted() async throws {
        let daemon = try await Self.start(.mixed)
        let client = try daemon.client()
        try Self.add(client, ["one", "two"], first: 1)
        #expect(try client.request(#"{"op":"commit","label":"fresh"}"#)["ok"] == .bool(true))
        let inspection = try ShardInspection(daemon)
        let dayAndHourAgo = Int64(Date().timeIntervalSince1970 * 1_000_000) - 25 * 3600 * 1_000_000
        for (index, shard) in Layout.mixed.shards.enumerated() {
            _ = try await inspection.rows(shard, "INSERT INTO shardd_labels (txid, label, committed_at) VALUES ('old-\(index)', 'old', \(dayAndHourAgo))")
        }
        #expect(try client.request(#"{"op":"transaction_status","label":"old"}"#)["outcome"] == .string("not_committed"))
        let again = try daemon.restart()
        for shard in Layout.mixed.shards {
            #expect(try await inspection.count(shard, "SELECT count(*) FROM shardd_labels WHERE label = 'old'") == 0, "\(shard)")
        }
        #expect(try await inspection.count("one", "SELECT count(*) FROM shardd_labels WHERE label = 'fresh'") == 1)
        #expect(try again.client().request(#"{"op":"transaction_status","label":"fresh"}"#)["outcome"] == .string("committed"))
        #expect(again.stop() == 0)
    }

    @Test func bestEffortCommitsAcrossShardsWithATxid() async throws {
        let daemon = try await Self.start(.sqlite, server: "commit = \"best_effort\"")
        let client = try daemon.client()
        try Self.add(client, ["asia", "europe"], first: 1)
        let answer = try client.request(#"{"op":"commit","label":"in-turn"}"#)
        #expect(answer["ok"] == .bool(true) && answer["txid"] != nil, "\(answer)")
        #expect(try client.request(#"{"op":"transaction_status","label":"in-turn"}"#)["outcome"] == .string("committed"))
        let log = try Data(contentsOf: URL(fileURLWithPath: daemon.directory.path + "/data/commits.log"))
        #expect(log.count == CommitLogFormat.header.count, "best effort writes no decision")
        #expect(daemon.stop() == 0)
    }
}
