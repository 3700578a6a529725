import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// The durable placement (protocol.md 13) through the built daemon: a shard added to
/// shards.conf and a map value pointed elsewhere move no row, on SQLite shards and a new
/// PostgreSQL shard.
@Suite struct PlacementTests {
    static let station = """

        [models.Station]
        id = "client"
        primary_key = ["code"]
        shard_by = { column = "code", hash = true }
        [models.Station.columns]
        code = "text"
        name = "text"

        """

    static let codes = (0..<40).map { "S\($0)" }

    @Test func aNewShardAndAMapValuePointedElsewhereMoveNoRow() async throws {
        let first = try Daemon(config: TestConfig.weather(extra: Self.station))
        let client = try first.client()
        let rows = Self.codes.map { #"{"code":"\#($0)","name":"n"}"# }.joined(separator: ",")
        #expect(try client.request(#"{"op":"add","model":"Station","rows":[\#(rows)]}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"London"}}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(first.stop() == 0)
        let placementFile = first.directory.path + "/data/placement.json"
        #expect(FileManager.default.fileExists(atPath: placementFile))

        // A fifth shard (PostgreSQL), and Europe pointed at south_america, in the file only.
        let environment = ["SHARDD_PG_FIFTH": try await TestPostgres.freshSchemaURL()]
        let edited = TestConfig.weather(extra: Self.station)
            .replacingOccurrences(of: #""Europe" = "europe""#, with: #""Europe" = "south_america""#)
            .replacingOccurrences(of: "[models.WeatherLocation]", with: "[shards.fifth]\nurl_env = \"SHARDD_PG_FIFTH\"\n\n[models.WeatherLocation]")
        #expect(edited.contains(#""Europe" = "south_america""#) && edited.contains("[shards.fifth]"))
        let daemon = try Daemon(config: edited, environment: environment, in: first.directory)
        let session = try daemon.client()
        // Every station is where it was: found by a query narrowed by its hash, and by get.
        for code in Self.codes {
            let found = try session.request(#"{"op":"query","model":"Station","where":{"code":"\#(code)"}}"#)
            #expect(found["objects"]?.arrayValue?.count == 1, "\(code): \(found)")
            #expect(found["shards"]?.arrayValue?.count == 1)
            #expect(found["shards"]?[0] != .string("fifth"))
            let got = try session.request(#"{"op":"get","model":"Station","pk":"\#(code)"}"#)
            #expect(got["object"]?["values"]?["code"] == .string(code), "\(code): \(got)")
        }
        // New rows follow the placement too: no station on the new shard, Europe still on europe.
        let more = (40..<80).map { #"{"code":"S\#($0)","name":"n"}"# }.joined(separator: ",")
        let added = try session.request(#"{"op":"add","model":"Station","rows":[\#(more)]}"#)
        let tokens = Set(added["objects"]?.arrayValue?.compactMap { $0["key"]?[2]?.stringValue } ?? [])
        #expect(tokens.count == 4 && !tokens.contains("fifth"), "\(tokens)")
        let paris = try session.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Paris"}}"#)
        #expect(paris["objects"]?[0]?["key"]?[2] == .string("europe"), "\(paris)")
        #expect(try session.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        // placement shows it, and what shards.conf wants instead.
        let placement = try session.request(#"{"op":"placement"}"#)
        #expect(placement["version"] == .int(1), "\(placement)")
        let stations = placement["groups"]?.arrayValue?.first { $0["group"] == .string("Station") }
        #expect(stations?["rule"] == .string("hash") && stations?["buckets"] == .int(4096), "\(placement)")
        #expect(stations?["owners"]?["fifth"] == .int(0) && stations?["owners"]?["asia"] == .int(1024))
        let locations = placement["groups"]?.arrayValue?.first { $0["group"] == .string("WeatherLocation") }
        #expect(locations?["models"] == .array([.string("WeatherLocation"), .string("Report")]))
        #expect(locations?["owners"]?["Europe"] == .string("europe"))
        let differs = placement["differs"]?.arrayValue ?? []
        #expect(differs.contains(.object(JSONObject([("group", .string("WeatherLocation")), ("unit", .string("Europe")),
                                                     ("now", .string("europe")), ("wanted", .string("south_america"))]))), "\(differs)")
        #expect(differs.contains(.object(JSONObject([("group", .string("Station")), ("shard", .string("fifth")),
                                                     ("buckets", .int(0)), ("wanted", .int(819))]))), "\(differs)")
        let only = try session.request(#"{"op":"placement","model":"Report"}"#)
        #expect(only["groups"]?.arrayValue?.map { $0["group"] } == [.string("WeatherLocation")], "\(only)")
        // rebalance's plan: Europe (one location, London, with no reports) to south_america,
        // and 819 or 820 buckets to the new shard carrying the 80 stations' share.
        let plan = try session.request(#"{"op":"rebalance","plan":true}"#)
        let moves = plan["moves"]?.arrayValue ?? []
        #expect(moves.first == .object(JSONObject([("group", .string("WeatherLocation")), ("unit", .object(JSONObject([("value", .string("Europe"))]))),
                                                  ("from", .string("europe")), ("to", .string("south_america")), ("rows", .int(2))])), "\(plan)")
        let bucketMoves = moves.filter { $0["group"] == .string("Station") }
        #expect(bucketMoves.count == 819 || bucketMoves.count == 820)
        let carried = bucketMoves.compactMap { $0["rows"]?.intValue }.reduce(0, +)
        let wouldMove = (0..<80).filter { code in
            let bucket = HashBuckets(count: 4096, shards: ["x"]).bucket(of: .text("S\(code)"))!
            return bucketMoves.contains { $0["unit"]?["bucket"] == .int(Int64(bucket)) }
        }.count
        #expect(carried == Int64(wouldMove), "\(carried) rows against \(wouldMove) stations in the moved buckets")
        let planTable = try ShardctlTests.shardctl(daemon, "rebalance", "--plan")
        #expect(planTable.status == 0 && planTable.stdout.contains("WeatherLocation  {\"value\":\"Europe\"}  europe"), "\(planTable.output)")
        let table = try ShardctlTests.shardctl(daemon, "placement")
        #expect(table.status == 0, "\(table.output)")
        #expect(table.stdout.contains("  WeatherLocation Europe: on europe, shards.conf says south_america"), "\(table.stdout)")
        #expect(table.stdout.contains("  Station shard fifth: 0 buckets, an even spread is 819"), "\(table.stdout)")

        // The rebalance runs: every station still found once, the new shard holding its share.
        let run = try session.request(#"{"op":"rebalance"}"#)
        let job = try MoveTests.finished(session, job: try #require(run["job"]?.intValue, "\(run)"))
        #expect(job["state"] == .string("done") && job["moves_done"] == .int(Int64(moves.count)), "\(job)")
        #expect(job["rows_copied"] == .int(carried + 2), "\(job)")
        let spread = try session.request(#"{"op":"placement"}"#)
        #expect(spread["differs"] == .array([]), "\(spread)")
        let verify = try session.request(#"{"op":"verify"}"#)
        #expect(verify["clean"] == .bool(true) && verify["rows"]?["fifth"]?["Station"] == .int(Int64(wouldMove)), "\(verify)")
        for code in Self.codes + (40..<80).map({ "S\($0)" }) {
            let got = try session.request(#"{"op":"get","model":"Station","pk":"\#(code)"}"#)
            #expect(got["object"]?["values"]?["code"] == .string(code), "\(code): \(got)")
        }
        #expect(daemon.stop() == 0)

        // A shard that holds buckets may not leave the file: the daemon says so and does not start.
        let without = edited.replacingOccurrences(of: "[shards.south_america]\nurl = \"sqlite:data/south_america.db\"\n", with: "")
            .replacingOccurrences(of: #", "South America" = "south_america""#, with: "")
            .replacingOccurrences(of: #""Europe" = "south_america""#, with: #""Europe" = "europe""#)
        #expect(!without.contains("sqlite:data/south_america.db"))
        let before = try String(contentsOfFile: placementFile, encoding: .utf8)
        try without.write(toFile: first.directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let start = try Shardd.run(["--config", first.directory.path + "/shards.conf"], environment: environment)
        #expect(start.status == 1, "\(start.output)")
        #expect(start.stderr.contains("placed on shard south_america, which shards.conf no longer has: add [shards.south_america] back (its rows are there)"), "\(start.stderr)")
        #expect(try String(contentsOfFile: placementFile, encoding: .utf8) == before)
    }
}
