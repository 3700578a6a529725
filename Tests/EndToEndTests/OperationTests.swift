import Foundation
import ShardCore
import ShardTestSupport
import Testing

/// Running shardd: connection limits, signals, graceful shutdown.
@Suite struct OperationTests {
    @Test func connectionsOverTheLimitGetOneErrorLineAndTheOthersGoOn() throws {
        let daemon = try Daemon(config: "[server]\nmax_connections = 2\n" + DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: ""))
        let a = try daemon.client(), b = try daemon.client()
        #expect(try a.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(try b.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        let c = try daemon.client()
        let refused = try JSONValue.parse(try #require(try c.receiveLine()))
        #expect(refused["error"]?["code"] == .string("too_many_connections"))
        #expect(try c.receiveLine() == nil)
        #expect(try a.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        // A place comes free when a client leaves.
        _ = consume b
        var served = false
        for _ in 0..<100 where !served {
            let d = try daemon.client()
            try? d.send(#"{"op":"ping"}"#)
            served = (try? d.receiveLine()).flatMap { $0 }.map { $0.contains("pong") } ?? false
            if !served { usleep(20_000) }
        }
        #expect(served)
        #expect(daemon.stop() == 0)
    }

    @Test func sighupIsLoggedAndIgnored() throws {
        let daemon = try Daemon()
        kill(daemon.process.processIdentifier, SIGHUP)
        usleep(300_000)
        #expect(daemon.process.isRunning)
        #expect(try daemon.client().request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.log().contains("SIGHUP"))
        #expect(daemon.stop() == 0)
    }

    @Test func sigtermFinishesRollsBackOpenTransactionsAndRemovesTheSocket() throws {
        let daemon = try Daemon()
        let writer = try daemon.client()
        #expect(try writer.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Committed"}}"#)["ok"] == .bool(true))
        #expect(try writer.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try writer.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Uncommitted"}}"#)["ok"] == .bool(true))
        // Requests in flight when the signal comes are answered in order, then the connection ends.
        var batch: [UInt8] = []
        for i in 0..<200 { batch += Array(#"{"id":\#(i),"op":"ping"}"#.utf8) + [0x0A] }
        try writer.send(raw: batch)
        kill(daemon.process.processIdentifier, SIGTERM)
        var next = 0
        while let line = try writer.receiveLine() {
            #expect(line == #"{"id":\#(next),"ok":true,"pong":true}"#)
            next += 1
        }
        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socketPath))
        #expect(daemon.log().contains("stopped"))
        // The open transaction was rolled back: only the committed row is there.
        let run = try Process.output(of: "/usr/bin/sqlite3", [daemon.directory.path + "/data/asia.db", "SELECT city FROM weather_locations ORDER BY id"])
        #expect(run.stdout == "Committed\n")
    }
}
