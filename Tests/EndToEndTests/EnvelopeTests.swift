import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// protocol.md 1 and 2 against the real daemon: framing, ids, errors, pipelining.
@Suite struct EnvelopeTests {
    @Test func helloAndPingWithTheirIdsEchoed() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let hello = try client.request(#"{"id":1,"op":"hello","client":"tests"}"#)
        #expect(hello["id"] == .int(1))
        #expect(hello["ok"] == .bool(true))
        #expect(hello["server"] == .string("shardd"))
        #expect(hello["protocol"] == .int(1))
        #expect(hello["shards"] == .array(["north_america", "asia", "europe", "south_america"].map(JSONValue.string)))
        #expect(hello["models"] == .array([.string("WeatherLocation"), .string("Report")]))
        guard case .int = hello["session"] else { Issue.record("no session number: \(hello)"); return }
        for id in [#""abc""#, "null", "true", "2.5", "-7"] {
            let pong = try client.request(#"{"op":"ping","id":\#(id)}"#)
            #expect(pong["id"] == (try JSONValue.parse(id)))
            #expect(pong["pong"] == .bool(true))
        }
        // No id in the request: none in the response.
        try client.send(#"{"op":"ping"}"#)
        #expect(try client.receiveLine() == #"{"ok":true,"pong":true}"#)
        #expect(daemon.stop() == 0)
    }

    @Test func badInputGetsOneErrorEachAndTheSessionGoesOn() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        let cases: [(String, JSONValue?, String)] = [
            ("not json", .null, "bad_json"),
            ("[1,2]", .null, "bad_json"),
            (#"{"id":5,"op":"ping","op":"ping"}"#, .null, "bad_json"),
            (#"{"id":6}"#, .int(6), "bad_request"),
            (#"{"id":7,"op":3}"#, .int(7), "bad_request"),
            (#"{"id":8,"op":"launch"}"#, .int(8), "unknown_op"),
            (#"{"id":9,"op":"ping","shard":"asia"}"#, .int(9), "bad_request"),
            (#"{"id":[1],"op":"ping"}"#, nil, "bad_request"),
        ]
        for (line, id, code) in cases {
            let answer = try client.request(line)
            #expect(answer["ok"] == .bool(false), "\(line)")
            #expect(answer["id"] == id, "\(line) -> \(answer)")
            #expect(answer["error"]?["code"] == .string(code), "\(line) -> \(answer)")
            guard case .string(let message)? = answer["error"]?["message"], !message.isEmpty else {
                Issue.record("no message for \(line)"); continue
            }
        }
        try client.send(raw: [0xFF, 0xFE, 0x0A])
        #expect(try JSONValue.parse(client.receiveLine()!)["error"]?["code"] == .string("bad_json"))
        #expect(try client.request(#"{"id":"after","op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    @Test func tenThousandPipelinedRequestsAreAnsweredInOrder() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        var batch: [UInt8] = []
        for i in 0..<10_000 { batch += Array(#"{"id":\#(i),"op":"ping"}"#.utf8) + [0x0A] }
        // All of it is written before a single response is read.
        try client.send(raw: batch)
        for i in 0..<10_000 {
            let line = try #require(try client.receiveLine())
            #expect(line == #"{"id":\#(i),"ok":true,"pong":true}"#)
            if line != #"{"id":\#(i),"ok":true,"pong":true}"# { break }
        }
        #expect(daemon.stop() == 0)
    }

    @Test func aTooLongLineIsAnsweredThenTheConnectionCloses() throws {
        let config = "[server]\nmax_line_bytes = 1024\n" + DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "")
        let daemon = try Daemon(config: config)
        let client = try daemon.client()
        #expect(try client.request(#"{"id":1,"op":"ping"}"#)["pong"] == .bool(true))
        try client.send(#"{"id":2,"op":"ping","pad":""# + String(repeating: "x", count: 2000) + #""}"#)
        let answer = try JSONValue.parse(try #require(try client.receiveLine()))
        #expect(answer["error"]?["code"] == .string("line_too_long"))
        #expect(try client.receiveLine() == nil)
        // The daemon serves others.
        #expect(try daemon.client().request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    @Test func aStaleSocketIsReplacedALiveOneIsAnError() throws {
        let directory = TemporaryDirectory()
        // A socket file nobody listens on, as a crashed daemon leaves behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array((directory.path + "/shardd.sock").utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path); $0[path.count] = 0 }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        #expect(FileManager.default.fileExists(atPath: directory.path + "/shardd.sock"))

        let daemon = try Daemon(in: directory)
        #expect(try daemon.client().request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        let mode = try FileManager.default.attributesOfItem(atPath: daemon.socketPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let second = try Process.output(of: Daemon.binary, ["--config", directory.path + "/shards.conf"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another process (pid \(daemon.process.processIdentifier)) is listening on \(daemon.socketPath)"), "\(second.stderr)")
        #expect(try daemon.client().request(#"{"op":"ping"}"#)["pong"] == .bool(true))

        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
    }
}
