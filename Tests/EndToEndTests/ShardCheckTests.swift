import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `shardd --check`, run as the built binary against real SQLite files and the real PostgreSQL.
@Suite struct ShardCheckTests {
    let directory = TemporaryDirectory()

    @Test func checkListsTheTablesToCreateChangesNothingAndPassesAfterMigrate() throws {
        try DefaultConfiguration.text.write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let names = ["north_america", "asia", "europe", "south_america"]
        let run = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"])
        #expect(run.status == 1, "\(run.output)")
        let lines = run.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }
        #expect(lines.count == 4)
        for (line, name) in zip(lines, names) {
            #expect(line.hasPrefix(name))
            #expect(line.contains("sqlite:\(directory.path)/data/\(name).db"))
            #expect(line.contains("reachable, tables differ from the models: 2 changes for shardd migrate"), "\(line)")
            #expect(run.stdout.contains("    to add: shard \(name): model WeatherLocation: table weather_locations is missing: create it"))
            #expect(run.stdout.contains("    to add: shard \(name): model Report: table weather_reports is missing: create it"))
        }
        // A check changes nothing.
        for name in names {
            #expect(try sqlite(directory.path + "/data/\(name).db", "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'weather%'") == "")
        }

        let migrate = try Shardd.run(["migrate", "--config", directory.path + "/shards.conf"])
        #expect(migrate.status == 0, "\(migrate.output)")
        #expect(migrate.stdout.contains("migrate: 12 statements on 4 shards; every shard matches the models"), "\(migrate.stdout)")
        let again = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"])
        #expect(again.status == 0, "\(again.output)")
        for (line, name) in zip(again.stdout.split(separator: "\n"), names) {
            #expect(line.hasPrefix(name) && line.contains("reachable (tables match the models, "), "\(line)")
        }
        for name in names {
            let tables = try sqlite(directory.path + "/data/\(name).db", "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'weather%' ORDER BY name")
            #expect(tables == "weather_locations\nweather_reports\n")
        }
        #expect(FileManager.default.fileExists(atPath: directory.path + "/data/sequences.db"))
        // migrate recorded the models; a check that finds every shard matching does not.
        let record = directory.path + "/data/models.json"
        #expect(FileManager.default.fileExists(atPath: record))
        try FileManager.default.removeItem(atPath: record)
        #expect(try Shardd.run(["--check", "--config", directory.path + "/shards.conf"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: record))
    }

    @Test func withoutAConfigFileTheBuiltInDefaultIsUsed() throws {
        let run = try Shardd.run(["--check"], in: directory.path)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.stderr.contains("built-in default"))
        #expect(run.stdout.contains("to add: shard asia: model WeatherLocation: table weather_locations is missing"), "\(run.stdout)")
        #expect(FileManager.default.fileExists(atPath: directory.path + "/data/asia.db"))
    }

    @Test func aPostgresShardIsReportedWithItsPasswordRedacted() throws {
        let url = try TestPostgres.baseURL()
        try config(asiaURLEnv: "SHARDD_ASIA_URL")
        let environment = ["SHARDD_ASIA_URL": url]
        let migrate = try Shardd.run(["migrate", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(migrate.status == 0, "\(migrate.output)")
        let run = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"], environment: environment)
        #expect(run.status == 0, "\(run.output)")
        let asia = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("asia") })
        #expect(asia.contains(" postgres "))
        #expect(asia.contains("reachable"))
        #expect(asia.contains(":***@"))
        #expect(!run.output.contains(":shardd@"))
    }

    @Test func aWrongPasswordIsUnreachableWithLibpqsReason() throws {
        let url = try TestPostgres.baseURL().replacingOccurrences(of: "shardd:shardd@", with: "shardd:not-the-password@")
        try config(asiaURLEnv: "SHARDD_ASIA_URL")
        let run = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"], environment: ["SHARDD_ASIA_URL": url])
        #expect(run.status == 1)
        let asia = try #require(run.stdout.split(separator: "\n").first { $0.hasPrefix("asia") })
        #expect(asia.contains("unreachable: "))
        #expect(asia.contains("password authentication failed"))
        #expect(!run.output.contains("not-the-password"))
        // The other shards are still checked and usable.
        #expect(run.stdout.split(separator: "\n").filter { $0.contains(" reachable") }.count == 3)
    }

    @Test func aBrokenConfigIsReportedWithItsKeyPathAndExitCode2() throws {
        let text = DefaultConfiguration.text.replacingOccurrences(of: "parent = \"WeatherLocation\"", with: "parent = \"Location\"")
        try text.write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let run = try Shardd.run(["--check", "--config", directory.path + "/shards.conf"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("models.Report.shard_by.parent"))
        #expect(run.stderr.contains("\"Location\""))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/data"))
    }

    @Test func helpDocumentsTheFlags() throws {
        let run = try Shardd.run(["--help"])
        #expect(run.status == 0)
        for flag in ["--config", "--check", "--log-level"] { #expect(run.stdout.contains(flag)) }
    }

    private func config(asiaURLEnv variable: String) throws {
        let text = DefaultConfiguration.text.replacingOccurrences(
            of: "url = \"sqlite:data/asia.db\"", with: "url_env = \"\(variable)\"")
        try text.write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
    }

    private func sqlite(_ file: String, _ sql: String) throws -> String {
        try Process.output(of: "/usr/bin/sqlite3", [file, sql]).stdout
    }
}

/// The daemon's own logs with `--log-format json`: every line of standard error parses.
@Suite struct JSONLogTests {
    @Test func everyLineOfAFailedStartIsAJSONObject() throws {
        let directory = TemporaryDirectory()
        let config = TestConfig.weather(server: "socket = \"\(directory.path)/missing/dir/s.sock\"")
            .replacingOccurrences(of: "socket = \"shardd.sock\"\n", with: "")
        try config.write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let run = try Shardd.run(["--config", directory.path + "/shards.conf", "--log-format", "json"])
        #expect(run.status == 1, "\(run.output)")
        let lines = run.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let json = try JSONValue.parse(Array(line.utf8))
            #expect(json["ts"]?.stringValue != nil && json["level"]?.stringValue != nil && json["message"]?.stringValue != nil, "\(line)")
        }
        #expect(lines.contains { $0.contains(#""level":"error""#) && $0.contains("missing/dir") }, "\(run.stderr)")
        let refused = try Shardd.run(["--config", directory.path + "/shards.conf", "--log-format", "xml"])
        #expect(refused.status != 0 && refused.stderr.contains("log-format"), "\(refused.output)")
    }
}
