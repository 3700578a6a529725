import Foundation
import Glibc
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `GET /metrics` and `GET /health` on `metrics_listen` (protocol.md 15), read the way a
/// Prometheus server reads them: the exposition parsed by prometheus_client's parser
/// (scripts/metrics_probe.py).
@Suite struct MetricsTests {
    /// The families of protocol.md 15 with their labels (besides a histogram's `le`).
    static let families: [(String, String, Set<String>)] = [
        ("shardd_requests_total", "counter", ["op", "code"]), ("shardd_request_duration_seconds", "histogram", ["op"]),
        ("shardd_shard_statements_total", "counter", ["shard"]), ("shardd_shard_errors_total", "counter", ["shard", "code"]),
        ("shardd_shard_up", "gauge", ["shard"]), ("shardd_pool_connections", "gauge", ["shard", "state"]),
        ("shardd_pool_waiting", "gauge", ["shard"]), ("shardd_sessions", "gauge", []), ("shardd_transactions_open", "gauge", []),
        ("shardd_commits_total", "counter", ["kind", "outcome"]), ("shardd_fanout_shards", "histogram", ["op"]),
        ("shardd_identity_map_keys", "gauge", []), ("shardd_subscriptions", "gauge", []), ("shardd_config_version", "gauge", []),
        ("shardd_config_reloads_total", "counter", ["outcome"]), ("shardd_move_rows_copied_total", "counter", []),
        ("shardd_jobs", "gauge", ["state"]), ("process_resident_memory_bytes", "gauge", []),
        ("process_start_time_seconds", "gauge", []), ("process_open_fds", "gauge", []),
    ]

    /// What scripts/metrics_probe.py found at `url`.
    static func probe(_ url: String) throws -> JSONValue {
        let run = try Process.output(of: "/usr/bin/env", ["python3", OutageTests.root + "/scripts/metrics_probe.py", url])
        guard run.status == 0 else {
            throw TestSetupError("metrics_probe.py failed (scripts/test.sh installs prometheus_client; by hand: pip install prometheus_client): \(run.stderr)")
        }
        return try JSONValue.parse(run.stdout)
    }

    /// A sample's value: the family's sample named `name` whose labels include `labels`.
    static func value(_ metrics: JSONValue, _ family: String, _ name: String? = nil, _ labels: [String: String] = [:]) -> Double? {
        guard case .array(let samples)? = metrics["families"]?[family]?["samples"] else { return nil }
        for sample in samples {
            guard sample[0]?.stringValue == (name ?? family), case .object(let have)? = sample[1] else { continue }
            if labels.allSatisfy({ have[$0.key]?.stringValue == $0.value }) {
                switch sample[2] {
                case .double(let d)?: return d
                case .int(let i)?: return Double(i)
                default: return nil
                }
            }
        }
        return nil
    }

    @Test func everyFamilyIsThereAndCountersMoveByExactlyTheRequestsMade() async throws {
        let directory = TemporaryDirectory()
        let cluster = try OutageTests.Cluster(directory: directory.path)
        let port = try LoopbackPort.free()
        let config = TestConfig.weather(server: "metrics_listen = \"127.0.0.1:\(port)\"")
            .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": cluster.url], in: directory)
        let url = "http://127.0.0.1:\(port)/metrics"
        let first = try Self.probe(url)
        #expect(first["status"] == .int(200), "\(first)")
        #expect(first["content_type"]?.stringValue?.hasPrefix("text/plain; version=0.0.4") == true)
        for (name, type, labels) in Self.families {
            let family = first["families"]?[name]
            #expect(family?["type"]?.stringValue == type, "\(name): \(String(describing: family))")
            guard case .array(let samples)? = family?["samples"] else { continue }
            for sample in samples {
                guard case .object(let have)? = sample[1] else { continue }
                #expect(Set(have.keys).subtracting(["le"]) == labels, "\(name): \(sample)")
            }
        }
        #expect(Self.value(first, "shardd_config_version") == 1)
        #expect(Self.value(first, "shardd_shard_up", nil, ["shard": "europe"]) == 1)

        let client = try daemon.client()
        for _ in 0..<3 { _ = try client.request(#"{"op":"ping"}"#) }
        _ = try client.request(#"{"op":"fly"}"#)
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#)
        _ = try client.request(#"{"op":"commit"}"#)
        _ = try client.request(#"{"op":"query","model":"WeatherLocation"}"#)
        let second = try Self.probe(url)
        func delta(_ family: String, _ name: String? = nil, _ labels: [String: String]) -> Double {
            (Self.value(second, family, name, labels) ?? 0) - (Self.value(first, family, name, labels) ?? 0)
        }
        #expect(delta("shardd_requests_total", nil, ["op": "ping", "code": "ok"]) == 3)
        #expect(delta("shardd_requests_total", nil, ["op": "unknown", "code": "unknown_op"]) == 1)
        #expect(delta("shardd_requests_total", nil, ["op": "add", "code": "ok"]) == 1)
        #expect(delta("shardd_request_duration_seconds", "shardd_request_duration_seconds_count", ["op": "ping"]) == 3)
        #expect(delta("shardd_commits_total", nil, ["kind": "single", "outcome": "committed"]) == 1)
        #expect(delta("shardd_commits_total", nil, ["kind": "two_phase", "outcome": "committed"]) == 0)
        // The query asked all four shards, once.
        #expect(delta("shardd_fanout_shards", "shardd_fanout_shards_count", ["op": "query"]) == 1)
        #expect(delta("shardd_fanout_shards", "shardd_fanout_shards_sum", ["op": "query"]) == 4)
        #expect((Self.value(second, "shardd_shard_statements_total", nil, ["shard": "asia"]) ?? 0) > (Self.value(first, "shardd_shard_statements_total", nil, ["shard": "asia"]) ?? 0))
        #expect(Self.value(second, "shardd_sessions") == 1)
        // The metrics op gives the same exposition.
        let op = try client.request(#"{"op":"metrics"}"#)
        #expect(op["text"]?.stringValue?.contains("# TYPE shardd_requests_total counter") == true)

        // A PostgreSQL shard stops: up goes to 0 once a request finds it gone, and back to 1.
        try cluster.run("stop")
        let lost = try client.request(#"{"op":"query","model":"WeatherLocation","where":{"continent":"Europe"}}"#)
        #expect(lost["error"]?["code"] == .string("shard_unavailable"), "\(lost)")
        let down = try Self.probe(url)
        #expect(Self.value(down, "shardd_shard_up", nil, ["shard": "europe"]) == 0)
        #expect(Self.value(down, "shardd_shard_up", nil, ["shard": "asia"]) == 1)
        #expect(Self.value(down, "shardd_shard_errors_total", nil, ["shard": "europe", "code": "shard_unavailable"]) == 1)
        let health = try Self.probe("http://127.0.0.1:\(port)/health")
        #expect(health["status"] == .int(200))
        let body = try JSONValue.parse(health["body"]?.stringValue ?? "")
        #expect(body["status"] == .string("serving") && body["shards"]?["europe"] == .string("down") && body["shards"]?["asia"] == .string("up"), "\(body)")
        try cluster.run("start")
        var up: Double?
        for _ in 0..<150 where up != 1 {
            usleep(200_000)
            up = Self.value(try Self.probe(url), "shardd_shard_up", nil, ["shard": "europe"])
        }
        #expect(up == 1, "\(daemon.log())")

        // A reload counts, and the version follows.
        try config.replacingOccurrences(of: "[server]\n", with: "[server]\nmax_result_rows = 9\n").write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        #expect(try client.request(#"{"op":"reload"}"#)["version"] == .int(2))
        let reloaded = try Self.probe(url)
        #expect(Self.value(reloaded, "shardd_config_version") == 2)
        #expect(Self.value(reloaded, "shardd_config_reloads_total", nil, ["outcome": "ok"]) == 1)
        #expect(Self.value(reloaded, "shardd_config_reloads_total", nil, ["outcome": "refused"]) == 0)
        // Only the two routes.
        #expect(try Self.probe("http://127.0.0.1:\(port)/other")["status"] == .int(404))
        #expect(daemon.stop() == 0)
    }

    @Test func healthAnswers503WhileStartingAndStoppingAnd200WhileServing() throws {
        let directory = TemporaryDirectory()
        let port = try LoopbackPort.free()
        let hold = directory.path + "/hold"
        FileManager.default.createFile(atPath: hold, contents: nil)
        try TestConfig.weather(server: "metrics_listen = \"127.0.0.1:\(port)\"").write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        // Held before it serves: the socket is not there yet, /health says starting.
        let starting = Process()
        starting.executableURL = URL(fileURLWithPath: try Daemon.faultsBinary())
        starting.arguments = ["--config", directory.path + "/shards.conf"]
        starting.environment = ProcessInfo.processInfo.environment.merging(["SHARDD_FAULT_HOLD": "start.before_serving:\(hold)"]) { $1 }
        starting.standardError = FileHandle.nullDevice
        try starting.run()
        defer { if starting.isRunning { starting.terminate(); starting.waitUntilExit() } }
        let health = "http://127.0.0.1:\(port)/health"
        var answer = try Self.probe(health)
        for _ in 0..<300 where answer["status"] == .int(0) {
            usleep(20_000)
            answer = try Self.probe(health)
        }
        #expect(answer["status"] == .int(503), "\(answer)")
        #expect(try JSONValue.parse(answer["body"]?.stringValue ?? "")["status"] == .string("starting"), "\(answer)")
        try FileManager.default.removeItem(atPath: hold)
        for _ in 0..<300 where answer["status"] != .int(200) {
            usleep(20_000)
            answer = try Self.probe(health)
        }
        #expect(answer["status"] == .int(200), "\(answer)")
        #expect(try JSONValue.parse(answer["body"]?.stringValue ?? "")["status"] == .string("serving"))
        starting.terminate()
        starting.waitUntilExit()

        // Held while it stops, its sessions not yet finished: /health says stopping.
        FileManager.default.createFile(atPath: hold, contents: nil)
        let daemon = try Daemon(environment: ["SHARDD_FAULT_HOLD": "stop.before_sessions_end:\(hold)"], in: directory,
                                binary: try Daemon.faultsBinary(), keepConfig: true)
        #expect(try Self.probe(health)["status"] == .int(200))
        daemon.process.terminate()
        answer = try Self.probe(health)
        for _ in 0..<300 where answer["status"] == .int(200) {
            usleep(20_000)
            answer = try Self.probe(health)
        }
        #expect(answer["status"] == .int(503), "\(answer)")
        #expect(try JSONValue.parse(answer["body"]?.stringValue ?? "")["status"] == .string("stopping"), "\(answer)")
        try FileManager.default.removeItem(atPath: hold)
        #expect(daemon.waitForExit() == 0)
    }

    @Test func aPublicAddressIsRefusedUnlessMetricsPublic() throws {
        let directory = TemporaryDirectory()
        try TestConfig.weather(server: "metrics_listen = \"0.0.0.0:\(try LoopbackPort.free())\"").write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let refused = try Shardd.run(["--config", directory.path + "/shards.conf", "--check"])
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.stderr.contains("server.metrics_listen: \"0.0.0.0:"), "\(refused.output)")
        #expect(refused.stderr.contains("metrics_public = true"), "\(refused.output)")
    }
}
