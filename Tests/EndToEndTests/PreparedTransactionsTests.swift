import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// A PostgreSQL shard without prepared transactions (`max_prepared_transactions = 0`, its
/// own cluster): with atomic commits, `--check` and start-up refuse it, naming the setting
/// and both remedies; with best effort it serves.
@Suite struct PreparedTransactionsTests {
    static func config(commit: String?) -> String {
        TestConfig.weather(server: commit.map { "commit = \"\($0)\"" } ?? "")
            .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
    }

    @Test func aServerWithoutPreparedTransactionsIsRefusedNamingBothRemedies() throws {
        let directory = TemporaryDirectory()
        let cluster = try OutageTests.Cluster(directory: directory.path, maxPrepared: 0)
        let environment = ["SHARDD_EUROPE_URL": cluster.url]
        try Self.config(commit: nil).write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let check = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(check.status == 1, "\(check.output)")
        let line = check.stdout.split(separator: "\n").first { $0.hasPrefix("europe") } ?? ""
        #expect(line.contains("unusable: max_prepared_transactions is 0"), "\(check.output)")
        #expect(line.contains("raise it in postgresql.conf") && line.contains("commit = \"best_effort\""), "\(line)")
        // Start-up refuses too, saying the same.
        let start = try Shardd.run(["--config", directory.path + "/shards.conf"], environment: environment)
        #expect(start.status == 1 && start.stderr.contains("max_prepared_transactions is 0"), "\(start.output)")

        // best_effort needs no prepared transactions.
        try Self.config(commit: "best_effort").write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let migrate = try Shardd.run(["migrate", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.output)")
        let relaxed = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(relaxed.status == 0, "\(relaxed.output)")
        #expect(!relaxed.stdout.contains("max_prepared_transactions"))
    }

    @Test func checkReportsTheSettingWhenItMatters() async throws {
        let directory = TemporaryDirectory()
        try Self.config(commit: nil).write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let environment = ["SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL()]
        let migrate = try Shardd.run(["migrate", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.output)")
        let check = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(check.status == 0, "\(check.output)")
        let line = check.stdout.split(separator: "\n").first { $0.hasPrefix("europe") } ?? ""
        #expect(line.contains("reachable (tables match the models, max_prepared_transactions 64,"), "\(check.output)")
    }
}
