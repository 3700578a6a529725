import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `verify` (protocol.md 9) on 2 SQLite + 2 PostgreSQL shards: every row where its placement
/// says, read in pages; rows put elsewhere behind the daemon's back are found.
@Suite struct VerifyTests {
    /// `PlacementTests.station`, and visits placed with their station.
    static let models = PlacementTests.station + """
        [models.Visit]
        id = "client"
        shard_by = { parent = "Station", via = "station" }
        [models.Visit.columns]
        id = "int"
        station = "text"

        """

    @Test func everyRowIsWhereItsPlacementSaysUntilOneIsPutElsewhere() async throws {
        let daemon = try Daemon(config: MixedShards.config + Self.models, environment: try await MixedShards.environment())
        let client = try daemon.client()
        // More stations than one page of keys (5,000), so that the scan goes page by page.
        for chunk in stride(from: 0, to: 12_000, by: 2_000) {
            let rows = (chunk..<chunk + 2_000).map { #"{"code":"S\#($0)","name":"n"}"# }.joined(separator: ",")
            #expect(try client.request(#"{"op":"add","model":"Station","rows":[\#(rows)]}"#)["ok"] == .bool(true))
        }
        let visits = (0..<20).map { #"{"id":\#($0),"station":"S\#($0 * 7)"}"# }.joined(separator: ",")
        #expect(try client.request(#"{"op":"add","model":"Visit","rows":[\#(visits)]}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        let clean = try client.request(#"{"op":"verify"}"#)
        #expect(clean["clean"] == .bool(true), "\(clean)")
        #expect(clean["checked"] == .int(12_020) && clean["stray_count"] == .int(0))
        let perShard = ["one", "two", "three", "four"].map { clean["rows"]?[$0]?["Station"]?.intValue ?? 0 }
        #expect(perShard.reduce(0, +) == 12_000 && perShard.allSatisfy { $0 > 2_000 }, "\(perShard)")
        let table = try ShardctlTests.shardctl(daemon, "verify")
        #expect(table.status == 0, "\(table.output)")
        #expect(table.stdout.contains("12020 rows checked: every row is where its placement says"), "\(table.stdout)")

        // Behind the daemon's back: a station on a shard its bucket does not name, and a visit
        // whose station is on another shard.
        let inspection = try ShardInspection(daemon)
        let home = try #require(try client.request(#"{"op":"get","model":"Station","pk":"S5001"}"#)["object"]?["key"]?[2]?.stringValue)
        let elsewhere = ["one", "two", "three", "four"].first { $0 != home }!
        let buckets = HashBuckets(count: 4096, shards: ["one", "two", "three", "four"])
        let code = try #require((0..<100).map { "X\($0)" }.first { buckets.owner(of: .text($0)) != elsewhere })
        _ = try await inspection.rows(elsewhere, "INSERT INTO station (code, name) VALUES ('\(code)', 'stray')")
        _ = try await inspection.rows(elsewhere, "INSERT INTO visit (id, station) VALUES (99, 'S5001')")

        let dirty = try client.request(#"{"op":"verify"}"#)
        #expect(dirty["clean"] == .bool(false) && dirty["stray_count"] == .int(2) && dirty["checked"] == .int(12_022), "\(dirty)")
        let strays = dirty["strays"]?.arrayValue ?? []
        #expect(strays.contains(.object(JSONObject([("key", .array([.string("Station"), .array([.string(code)]), .string(elsewhere)])),
                                                    ("shard", .string(elsewhere)), ("wanted", .string(buckets.owner(of: .text(code))!))]))), "\(strays)")
        #expect(strays.contains(.object(JSONObject([("key", .array([.string("Visit"), .array([.int(99)]), .string(elsewhere)])),
                                                    ("shard", .string(elsewhere)), ("wanted", .null)]))), "\(strays)")
        let only = try client.request(#"{"op":"verify","model":"Visit"}"#)
        #expect(only["stray_count"] == .int(1) && only["checked"] == .int(21), "\(only)")
        let failing = try ShardctlTests.shardctl(daemon, "verify")
        #expect(failing.status == 1, "\(failing.output)")
        #expect(failing.stdout.contains(#"["Visit",[99],"\#(elsewhere)"]: on \#(elsewhere), no placement names it here"#), "\(failing.stdout)")
        #expect(daemon.stop() == 0)
    }
}
