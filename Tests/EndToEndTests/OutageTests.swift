import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// A PostgreSQL shard stops and comes back while the daemon serves (its own cluster, so the
/// shared test server is not disturbed).
@Suite struct OutageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    final class Cluster {
        let environment: [String: String]
        let url: String
        /// What `postgres.sh start` wrote to stderr.
        let startLog: String

        /// - Parameter durable: commits survive a crash of the server (`SHARDD_PG_DURABLE`).
        /// - Parameter maxPrepared: its `max_prepared_transactions`.
        /// - Parameter port: the port to try next.
        init(directory: String, durable: Bool = false, maxPrepared: Int = 64, port: () throws -> Int = LoopbackPort.free) throws {
            var environment: [String: String] = [:], started: ProcessRun?
            // A free port can be taken (by any outgoing connection) before the server binds it:
            // try another rather than fail the test (CI did, "could not bind ... Address already in use").
            for _ in 0..<5 {
                environment = ["SHARDD_PG_DIR": directory + "/pg", "SHARDD_PG_PORT": String(try port()),
                               "SHARDD_PG_DURABLE": durable ? "1" : "0", "SHARDD_PG_MAX_PREPARED": String(maxPrepared)]
                started = try Process.output(of: OutageTests.root + "/scripts/postgres.sh", ["start"], environment: environment)
                if started?.status == 0 || started?.stderr.contains("Address already in use") == false { break }
            }
            self.environment = environment
            guard let started, started.status == 0, let line = started.stdout.split(separator: "\n").last,
                  let quote = line.firstIndex(of: "'") else {
                throw TestSetupError("could not start a PostgreSQL cluster: \(started?.stderr ?? "")")
            }
            url = String(line[line.index(after: quote)...].dropLast())
            startLog = started.stderr
        }

        func run(_ command: String) throws {
            let result = try Process.output(of: OutageTests.root + "/scripts/postgres.sh", [command], environment: environment)
            guard result.status == 0 else { throw TestSetupError("postgres.sh \(command): \(result.stderr)") }
        }

        deinit { try? run("stop") }
    }

    /// CI failed once when another process held the port a test cluster was given.
    @Test func aClusterWhosePortIsTakenStartsOnAnother() throws {
        let directory = TemporaryDirectory()
        let taken = try SilentListener()
        defer { taken.close() }
        var offered: [Int] = []
        let cluster = try Cluster(directory: directory.path) {
            offered.append(offered.isEmpty ? Int(taken.port) : try LoopbackPort.free())
            return offered.last!
        }
        #expect(offered.count == 2)
        #expect(cluster.url.contains(":\(offered[1])/"), "\(cluster.url)")
    }

    @Test func requestsThatNeedADownShardFailTheRestWorkAndItComesBackByItself() throws {
        let directory = TemporaryDirectory()
        let cluster = try Cluster(directory: directory.path)
        // It closed its inherited descriptors quietly, bash's own included (no "Bad file descriptor").
        #expect(!cluster.startLog.contains("Bad file descriptor"), "\(cluster.startLog)")
        let config = DefaultConfiguration.text.replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": cluster.url])
        let writer = try daemon.client(), reader = try daemon.client()
        _ = try writer.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Europe","city":"London"},{"continent":"Asia","city":"Tokyo"}]}"#)
        #expect(try writer.request(#"{"op":"commit"}"#)["shards"] == .array([.string("asia"), .string("europe")]))
        _ = try writer.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Paris"}}"#)

        try cluster.run("pause")
        // A transaction that touched the lost shard is over.
        let lost = try writer.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Berlin"}}"#)
        #expect(lost["error"]?["code"] == .string("transaction_aborted"), "\(lost)")
        #expect(lost["error"]?["shard"] == .string("europe"))
        // Requests that need the shard fail, naming it; a fan-out fails rather than answer in part.
        let pinned = try reader.request(#"{"op":"query","model":"WeatherLocation","where":{"continent":"Europe"}}"#)
        #expect(pinned["error"]?["code"] == .string("shard_unavailable"))
        #expect(pinned["error"]?["shard"] == .string("europe"))
        #expect(try reader.request(#"{"op":"count","model":"WeatherLocation"}"#)["error"]?["code"] == .string("shard_unavailable"))
        // Requests that do not need it work.
        #expect(try reader.request(#"{"op":"query","model":"WeatherLocation","where":{"continent":"Asia"}}"#)["shards"] == .array([.string("asia")]))
        let shards = try reader.request(#"{"op":"shards"}"#)
        guard case .array(let list)? = shards["shards"] else { Issue.record("\(shards)"); return }
        #expect(list.first { $0["name"] == .string("europe") }?["status"] == .string("down"))

        try cluster.run("start")
        // Back by itself, with no request needed to notice.
        var back = false
        for _ in 0..<200 where !back {
            usleep(100_000)
            back = daemon.log().contains("shard europe is up again")
        }
        #expect(back, "\(daemon.log())")
        let europe = try reader.request(#"{"op":"query","model":"WeatherLocation","where":{"continent":"Europe"}}"#)
        guard case .array(let cities)? = europe["objects"] else { Issue.record("\(europe)"); return }
        // The committed row is there; the rolled-back one is not.
        #expect(cities.map { $0["values"]?["city"] } == [.string("London")])
        let after = try reader.request(#"{"op":"shards"}"#)
        guard case .array(let again)? = after["shards"] else { return }
        #expect(again.first { $0["name"] == .string("europe") }?["status"] == .string("up"))
        #expect(daemon.log().contains("shard europe is down"))
        #expect(daemon.stop() == 0)
    }
}
