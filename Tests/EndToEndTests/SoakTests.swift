import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// 32 sessions of mixed work for 60 s while a PostgreSQL shard restarts: no crash, no lost
/// committed row, and the daemon's memory comes back to where it was.
@Suite struct SoakTests {
    static func rssKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return -1 }
        return kib
    }

    /// One session's mixed work until `deadline`: the cities it saw committed, and its request count.
    static func work(_ socketPath: String, session: Int, until deadline: Date) throws -> ([String], Int) {
        let client = try LineClient(socketPath: socketPath)
        var random = SplitMix64(seed: UInt64(session + 1))
        var mine: [String] = []
        var requests = 0
        let continents = ["Asia", "Europe", "North America", "South America"]
        var round = 0
        while Date() < deadline {
            round += 1
            let city = "s\(session)-\(round)"
            let continent = continents[Int(random.next() % 4)]
            let added = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"\#(continent)","city":"\#(city)"}}"#)
            requests += 1
            if case .array(let objects)? = added["objects"], case .int(let id)? = objects.first?["values"]?["id"] {
                _ = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":\#(id),"temperature":\#(random.next() % 40)},{"location_id":\#(id),"temperature":1}]}"#)
                _ = try client.request(#"{"op":"get","model":"WeatherLocation","pk":\#(id)}"#)
                requests += 2
            }
            let commit = try client.request(#"{"op":"commit"}"#)
            requests += 1
            // Committed only if the commit names the row's shard: a request that met the shard
        // restart may have ended the transaction (transaction_aborted), and then commit
        // answers ok with no shards.
        if case .array(let objects)? = added["objects"], case .array(let key)? = objects.first?["key"],
           case .array(let shards)? = commit["shards"], shards.contains(key[2]) {
            mine.append(city)
        }
            if round % 5 == 0 {
                _ = try client.request(#"{"op":"query","model":"Report","order_by":["-temperature"],"limit":10}"#)
                _ = try client.request(#"{"op":"expunge_all"}"#)
                requests += 2
            }
        }
        return (mine, requests)
    }

    @Test func thirtyTwoSessionsForAMinuteAcrossAShardRestart() async throws {
        let directory = TemporaryDirectory()
        let cluster = try OutageTests.Cluster(directory: directory.path)
        let config = DefaultConfiguration.text.replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": cluster.url])
        let socketPath = daemon.socketPath

        // Warm up (pools filled, code paths touched) before the first measure.
        let warm = try daemon.client()
        for continent in ["Asia", "Europe", "North America", "South America"] {
            _ = try warm.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"\#(continent)","city":"warm"}}"#)
        }
        _ = try warm.request(#"{"op":"commit"}"#)
        usleep(500_000)
        let rssCold = Self.rssKiB(daemon.process.processIdentifier)
        let warmupEnd = Date().addingTimeInterval(15)
        _ = try await onThreads(32) { session in try Self.work(socketPath, session: session + 100, until: warmupEnd) }
        usleep(1_000_000)
        let rssWarm = Self.rssKiB(daemon.process.processIdentifier)

        let deadline = Date().addingTimeInterval(60)
        let restart = Task.detached {
            try await Task.sleep(for: .seconds(25))
            try cluster.run("pause")
            try await Task.sleep(for: .seconds(3))
            try cluster.run("start")
        }
        let results = try await onThreads(32) { session in try Self.work(socketPath, session: session, until: deadline) }
        let committed = results.reduce(into: ([String](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
        try await restart.value
        #expect(daemon.process.isRunning, "\(daemon.log().suffix(2000))")

        // Every committed row is there (the shard came back by itself).
        var back = false
        for _ in 0..<100 where !back {
            back = (try? daemon.client().request(#"{"op":"count","model":"WeatherLocation"}"#))?["ok"] == .bool(true)
            if !back { usleep(200_000) }
        }
        let reader = try daemon.client()
        var found: Set<String> = []
        for continent in ["Asia", "Europe", "North America", "South America"] {
            var offset = 0
            while true {
                let page = try reader.request(#"{"op":"query","model":"WeatherLocation","where":{"continent":"\#(continent)"},"order_by":["id"],"limit":5000,"offset":\#(offset)}"#)
                guard case .array(let objects)? = page["objects"] else { Issue.record("\(page)"); break }
                for object in objects { if case .string(let city)? = object["values"]?["city"] { found.insert(city) } }
                if objects.count < 5000 { break }
                offset += 5000
            }
            _ = try reader.request(#"{"op":"expunge_all"}"#)
        }
        let lost = committed.0.filter { !found.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) committed rows are missing, e.g. \(lost.prefix(5))")
        #expect(committed.0.count > 1000, "the soak did real work: \(committed.0.count) committed rows")

        // Memory after: all 32 sessions gone, back near where it was.
        usleep(1_000_000)
        let rssAfter = Self.rssKiB(daemon.process.processIdentifier)
        print("soak: \(committed.1) requests, \(committed.0.count) committed rows from 32 sessions in 60 s; RSS cold \(rssCold) KiB, after a 15 s warm-up \(rssWarm) KiB, after the soak \(rssAfter) KiB")
        #expect(rssWarm > 0 && rssAfter > 0)
        // The working set (pools, caches, allocator) is reached in the warm-up; a minute
        // more of the same work, across a shard restart, must not add to it.
        #expect(rssAfter - rssWarm < 48 * 1024, "RSS grew from \(rssWarm) KiB to \(rssAfter) KiB")
        #expect(daemon.stop() == 0)
    }
}
