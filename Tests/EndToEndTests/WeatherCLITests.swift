import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// The `weather` binary (demo, seed, load) against a daemon started from the built binary.
@Suite struct WeatherCLITests {
    /// The built `weather` beside the built `shardd`.
    static var binary: String {
        URL(fileURLWithPath: Daemon.binary).deletingLastPathComponent().appendingPathComponent("weather").path
    }

    static func weather(_ arguments: [String], socket: String) throws -> ProcessRun {
        try Process.output(of: binary, arguments + ["--socket", socket], environment: ["SHARDD_SOCKET": ""])
    }

    /// How many rows of `model` the daemon holds, counted over a fresh connection.
    static func count(_ model: String, _ daemon: Daemon) throws -> Int64? {
        let answer = try daemon.client().request(#"{"op":"count","model":"\#(model)"}"#)
        guard case .int(let count)? = answer["count"] else { return nil }
        return count
    }

    @Test func demoPlaysTheScenarioTwice() throws {
        let daemon = try Daemon()
        for run in 1...2 {
            let result = try Self.weather(["demo"], socket: daemon.socketPath)
            #expect(result.status == 0, "run \(run): \(result.output)")
            // The two reports with primary key 1, one per shard, as SQLAlchemy's example asserts.
            #expect(result.stdout.contains(#"["Report",[1],"asia"]"#), "run \(run): \(result.stdout)")
            #expect(result.stdout.contains(#"["Report",[1],"north_america"]"#), "run \(run): \(result.stdout)")
            #expect(result.stdout.contains(#"get WeatherLocation 1 -> Tokyo (Asia) key ["WeatherLocation",[1],"asia"]"#), "run \(run): \(result.stdout)")
            // The in query asks only the shards of its continents.
            #expect(result.stdout.contains("asked shards asia, europe"), "run \(run): \(result.stdout)")
            #expect(result.stdout.contains("asked shards north_america (shard named"), "run \(run): \(result.stdout)")
            #expect(!result.stdout.contains("CHECK FAILED"), "run \(run): \(result.stdout)")
            // The steps beyond the example: any, a computed update narrowed by has, pages, a listener.
            #expect(result.stdout.contains("-> Quito (South America)") && result.stdout.contains("-> Tokyo (Asia)"), "run \(run): \(result.stdout)")
            #expect(result.stdout.contains("update_where -> 1 row(s) on shards asia") && result.stdout.contains("81.5 (computed by the shard"), "run \(run): \(result.stdout)")
            #expect(result.stdout.contains("page 3: 75.0"), "run \(run): \(result.stdout)")
            #expect(result.stdout.contains(" hears: insert [\"Report\","), "run \(run): \(result.stdout)")
            if run == 2 { #expect(result.stdout.contains("an earlier run's"), "\(result.stdout)") }
        }
        // The second run reused the rows of the first.
        #expect(try Self.count("WeatherLocation", daemon) == 7)
        #expect(try Self.count("Report", daemon) == 3)

        let seeded = try Self.weather(["seed", "--locations", "40", "--reports-per-location", "5"], socket: daemon.socketPath)
        #expect(seeded.status == 0, "\(seeded.output)")
        #expect(try Self.count("WeatherLocation", daemon) == 7 + 40)
        #expect(try Self.count("Report", daemon) == 3 + 200)

        // The demo still works over the seeded data.
        let again = try Self.weather(["demo"], socket: daemon.socketPath)
        #expect(again.status == 0, "\(again.output)")
        #expect(try Self.count("WeatherLocation", daemon) == 47)
        #expect(daemon.stop() == 0)
    }

    @Test func seedAddsRowsOnEveryShard() throws {
        let daemon = try Daemon()
        let result = try Self.weather(["seed", "--locations", "40", "--reports-per-location", "5", "--batch-size", "16"], socket: daemon.socketPath)
        #expect(result.status == 0, "\(result.output)")
        #expect(try Self.count("WeatherLocation", daemon) == 40)
        #expect(try Self.count("Report", daemon) == 200)
        let client = try daemon.client()
        let perShard = try client.request(#"{"op":"count","model":"Report"}"#)["per_shard"]
        for shard in ["north_america", "asia", "europe", "south_america"] {
            #expect(perShard?[shard] == .int(50), "\(String(describing: perShard))")
        }
        let cities = try client.request(#"{"op":"count","model":"WeatherLocation","where":["in","city",["City 1","City 40"]]}"#)
        #expect(cities["count"] == .int(2))
        // Not a terminal here: plain progress lines, no bar.
        #expect(!result.stderr.contains("\r"), "\(result.stderr)")
        #expect(result.stdout.contains("seeded 40 locations"), "\(result.stdout)")
        #expect(daemon.stop() == 0)
    }

    @Test func loadReportsEveryOperationAsJSON() throws {
        let daemon = try Daemon()
        let seeded = try Self.weather(["seed", "--locations", "40", "--reports-per-location", "5"], socket: daemon.socketPath)
        #expect(seeded.status == 0, "\(seeded.output)")
        let result = try Self.weather(["load", "--clients", "4", "--duration", "2", "--json"], socket: daemon.socketPath)
        #expect(result.status == 0, "\(result.output)")
        let document = try JSONValue.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(document["clients"] == .int(4))
        #expect(document["pipeline"] == .int(1))
        guard case .object(let errors)? = document["errors"] else {
            Issue.record("errors is not an object: \(result.stdout)")
            return
        }
        #expect(errors.members.isEmpty, "\(result.stdout)")
        guard case .double(let duration)? = document["duration_s"] else {
            Issue.record("no duration_s: \(result.stdout)")
            return
        }
        #expect(duration >= 2 && duration < 10)
        for op in ["get", "query", "add", "aggregate"] {
            let entry = document["ops"]?[op]
            guard case .int(let count)? = entry?["count"], case .int(let p50)? = entry?["latency_us"]?["p50"],
                  case .int(let p99)? = entry?["latency_us"]?["p99"], case .int(let max)? = entry?["latency_us"]?["max"]
            else {
                Issue.record("\(op) lacks count or latencies: \(result.stdout)")
                continue
            }
            #expect(count > 0, "\(op): \(result.stdout)")
            #expect(p50 > 0 && p50 <= p99 && p99 <= max, "\(op): \(result.stdout)")
        }
        // The adds were committed.
        #expect(try (Self.count("Report", daemon) ?? 0) > 200)
        // No progress with --json: stderr stays empty.
        #expect(result.stderr.isEmpty, "\(result.stderr)")

        let pipelined = try Self.weather(["load", "--clients", "2", "--pipeline", "8", "--duration", "1", "--mix", "get=1,query=1", "--json"],
                                         socket: daemon.socketPath)
        #expect(pipelined.status == 0, "\(pipelined.output)")
        let second = try JSONValue.parse(pipelined.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(second["pipeline"] == .int(8))
        #expect(second["ops"]?["add"] == nil)
        if case .int(let gets)? = second["ops"]?["get"]?["count"] { #expect(gets > 0) } else { Issue.record("\(pipelined.stdout)") }
        // ping: the floor on the same connections, with no database behind it.
        let pings = try Self.weather(["load", "--clients", "2", "--pipeline", "4", "--duration", "1", "--mix", "ping=1", "--json"],
                                     socket: daemon.socketPath)
        #expect(pings.status == 0, "\(pings.output)")
        let third = try JSONValue.parse(pings.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(third["ops"]?["get"] == nil)
        if case .int(let count)? = third["ops"]?["ping"]?["count"] { #expect(count > 0) } else { Issue.record("\(pings.stdout)") }
        if case .object(let errors)? = third["errors"] { #expect(errors.members.isEmpty, "\(pings.stdout)") } else { Issue.record("\(pings.stdout)") }
        #expect(daemon.stop() == 0)
    }

    @Test func loadWithoutDataSaysToSeed() throws {
        let daemon = try Daemon()
        let result = try Self.weather(["load", "--duration", "1"], socket: daemon.socketPath)
        #expect(result.status == 1)
        #expect(result.stderr.contains("weather seed"), "\(result.output)")
        #expect(daemon.stop() == 0)
    }

    @Test(arguments: [["demo"], ["seed", "--locations", "1"], ["load", "--duration", "1"]])
    func exitsWith2WhenNoDaemonListens(arguments: [String]) throws {
        let directory = TemporaryDirectory()
        let socket = directory.path + "/nothing.sock"
        let result = try Self.weather(arguments, socket: socket)
        #expect(result.status == 2, "\(result.output)")
        #expect(result.stderr.contains("no shardd listening at \(socket); start it with `swift run shardd`"), "\(result.stderr)")
    }

    @Test(arguments: [[], ["demo"], ["seed"], ["load"]])
    func helpDescribesEachCommand(arguments: [String]) throws {
        let result = try Process.output(of: Self.binary, arguments + ["--help"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.stdout.contains("--socket") || arguments.isEmpty, "\(result.stdout)")
        #expect(result.stdout.contains("USAGE"), "\(result.stdout)")
    }

    @Test func badArgumentsAreRefused() throws {
        let result = try Process.output(of: Self.binary, ["load", "--mix", "get=1,sleep=2", "--socket", "/nonexistent.sock"])
        #expect(result.status == 64, "\(result.output)")  // EX_USAGE, before any connection
        #expect(result.stderr.contains("unknown operation \"sleep\""), "\(result.stderr)")
    }
}
