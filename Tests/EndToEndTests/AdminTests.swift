import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// protocol.md 9 and the peer checks of protocol.md 1, against the real daemon.
@Suite struct AdminTests {
    @Test func shardsSessionsKeysAndStats() throws {
        let daemon = try Daemon()
        let admin = try daemon.client(), other = try daemon.client()
        _ = try other.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Europe","city":"London"}]}"#)
        _ = try other.request(#"{"op":"commit"}"#)
        _ = try other.request(#"{"op":"add","model":"Report","values":{"location_id":1,"temperature":80}}"#)
        _ = try other.request(#"{"op":"fly"}"#)

        let shards = try admin.request(#"{"op":"shards"}"#)
        guard case .array(let list)? = shards["shards"], list.count == 4 else { Issue.record("\(shards)"); return }
        #expect(list.map { $0["name"] } == ["north_america", "asia", "europe", "south_america"].map { JSONValue.string($0) })
        #expect(list.allSatisfy { $0["status"] == .string("up") && $0["backend"] == .string("sqlite") })
        #expect(list[1]["rows"] == .object(JSONObject([("WeatherLocation", .int(1)), ("Report", .int(0))])), "the open transaction's report is not counted")
        #expect(list[1]["pool"]?["size"] == .int(4))
        if case .double(let latency)? = list[0]["latency_ms"] { #expect(latency >= 0) } else { Issue.record("no latency: \(list[0])") }

        let sessions = try admin.request(#"{"op":"sessions"}"#)
        guard case .array(let live)? = sessions["sessions"] else { Issue.record("\(sessions)"); return }
        #expect(live.count == 2)
        let busy = try #require(live.first { $0["in_transaction"] == .bool(true) })
        #expect(busy["identity_keys"] == .int(3))
        #expect(busy["requests"] == .int(4))
        #expect(busy["uid"] == .int(Int64(getuid())))
        #expect(busy["pid"] == .int(Int64(getpid())))
        guard case .int(let busySession)? = busy["session"] else { return }

        let keys = try admin.request(#"{"op":"keys","session":\#(busySession),"model":"WeatherLocation","limit":1}"#)
        #expect(keys["keys"] == .array([.object(JSONObject([("session", .int(busySession)), ("key", .array([.string("WeatherLocation"), .array([.int(1)]), .string("asia")]))]))]))

        let before = try admin.request(#"{"op":"stats"}"#)
        _ = try other.request(#"{"op":"query","model":"WeatherLocation"}"#)
        _ = try admin.request(#"{"op":"shards"}"#)
        let stats = try admin.request(#"{"op":"stats"}"#)
        #expect(stats["requests"]?["add"] == .int(2))
        #expect(stats["errors"]?["unknown_op"] == .int(1))
        #expect(stats["connections"] == .int(2))
        guard case .int(let p50)? = stats["latency_us"]?["add"]?["p50"], case .int(let p99)? = stats["latency_us"]?["add"]?["p99"] else { Issue.record("\(stats)"); return }
        #expect(p50 > 0 && p99 >= p50)
        // The query ran one statement per shard; the shards op's probes are not counted.
        for shard in ["north_america", "asia", "europe", "south_america"] {
            guard case .int(let a)? = before["per_shard"]?[shard]?["statements"], case .int(let b)? = stats["per_shard"]?[shard]?["statements"] else {
                Issue.record("\(stats)"); return
            }
            #expect(b - a == 1, "\(shard)")
        }
        #expect(daemon.stop() == 0)
    }

    /// A client of another uid (nobody), against a socket opened to everyone.
    static func asNobody(_ socket: String, _ lines: [String]) throws -> [String] {
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
            for line in sys.argv[2:]:
                try:
                    f.write(line + "\\n"); f.flush()
                    answer = f.readline()
                except OSError:
                    answer = ""
                if not answer: print("<closed>"); break
                print(answer.strip())
            else:
                print("<open>")
            """
        let run = try Process.output(of: "/usr/sbin/runuser", ["-u", "nobody", "--", "/usr/bin/python3", "-c", script, socket] + lines)
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout.split(separator: "\n").map(String.init)
    }

    @Test func anotherUidIsRefusedBeforeAnyRequestUnlessAllowed() throws {
        #expect(getuid() == 0, "this test runs a client as nobody with runuser, which needs root (as in CI)")
        let open = "[server]\nsocket_mode = \"0666\"\n" + DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "")
        let refusing = try Daemon(config: open)
        let refused = try Self.asNobody(refusing.socketPath, [#"{"id":1,"op":"ping"}"#, #"{"id":2,"op":"ping"}"#])
        #expect(refused.count == 2)
        let first = try JSONValue.parse(refused[0])
        #expect(first["error"]?["code"] == .string("forbidden"))
        #expect(refused.last == "<closed>")
        #expect(try refusing.client().request(#"{"op":"ping"}"#)["pong"] == .bool(true), "the daemon's own uid is served")
        #expect(refusing.stop() == 0)

        let allowing = try Daemon(config: "[server]\nsocket_mode = \"0666\"\nallowed_uids = [0, 65534]\n" + DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: ""))
        let served = try Self.asNobody(allowing.socketPath, [#"{"id":1,"op":"ping"}"#, #"{"id":2,"op":"stats"}"#, #"{"id":3,"op":"ping"}"#])
        #expect(try JSONValue.parse(served[0])["pong"] == .bool(true))
        #expect(try JSONValue.parse(served[1])["error"]?["code"] == .string("forbidden"), "admin ops are for admin_uids")
        #expect(try JSONValue.parse(served[2])["pong"] == .bool(true))
        #expect(served.last == "<open>")
        #expect(allowing.stop() == 0)
    }
}
