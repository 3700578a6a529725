import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Growing a deployment (docs/moves.md): a fifth shard added and one drained, the hash
/// buckets rebalanced while stations are written, the daemon SIGKILLed at random moments of
/// the job (three times, bounded) and restarted: afterwards every station written is on the
/// shard its bucket names, exactly once, the drained shard is empty and nothing of the moves
/// is left on any shard.
@Suite(.serialized) struct MoveChaosTests {
    static let station = PlacementTests.station

    static func grown(_ base: String) -> String {
        base.replacingOccurrences(of: "[shards.north_america]\nurl = \"sqlite:data/north_america.db\"",
                                  with: "[shards.north_america]\nurl = \"sqlite:data/north_america.db\"\ndrain = true")
            .replacingOccurrences(of: "[models.WeatherLocation]", with: "[shards.fifth]\nurl = \"sqlite:data/fifth.db\"\n\n[models.WeatherLocation]")
            // A drained shard may own no map value: North America goes to the new shard.
            .replacingOccurrences(of: #""North America" = "north_america""#, with: #""North America" = "fifth""#)
    }

    static func add(_ client: LineClient, _ codes: Range<Int>) throws {
        let rows = codes.map { #"{"code":"S\#($0)","name":"station \#($0)"}"# }.joined(separator: ",")
        let answer = try client.request(#"{"op":"add","model":"Station","rows":[\#(rows)]}"#)
        #expect(answer["ok"] == .bool(true), "\(answer)")
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
    }

    @Test func aRebalanceKilledAtRandomMomentsEndsWithEveryRowOnceWhereItsBucketSays() async throws {
        let first = try Daemon(config: TestConfig.weather(server: "max_result_rows = 50000", extra: Self.station))
        for start in stride(from: 0, to: 20_000, by: 2000) { try Self.add(first.client(), start..<(start + 2000)) }
        #expect(first.stop() == 0)

        var daemon = try Daemon(config: Self.grown(TestConfig.weather(server: "max_result_rows = 50000", extra: Self.station)), in: first.directory)
        let started = try daemon.client().request(#"{"op":"rebalance"}"#)
        #expect(started["job"] == .int(1), "\(started)")
        var written = 20_000
        var generator = SystemRandomNumberGenerator()
        for round in 0..<3 {
            // Writes while the job runs, then a kill somewhere in it.
            try Self.add(daemon.client(), written..<(written + 50))
            written += 50
            usleep(UInt32.random(in: 5_000...150_000, using: &generator))
            daemon.kill()
            daemon = try Daemon(in: first.directory, keepConfig: true)
            #expect(try daemon.client().request(#"{"op":"count","model":"Station"}"#)["count"] == .int(Int64(written)), "round \(round): \(daemon.log())")
        }
        let client = try daemon.client()
        let job = try MoveTests.finished(client, job: 1, seconds: 120)
        let resumed = daemon.log().components(separatedBy: "job 1: resuming").count - 1
        print("MoveChaosTests: the job was cut short and resumed \(resumed) times")
        #expect(job["state"] == .string("done"), "\(job) \(daemon.log())")

        let verify = try client.request(#"{"op":"verify"}"#)
        #expect(verify["clean"] == .bool(true), "\(verify)")
        #expect(verify["rows"]?["north_america"]?["Station"] == .int(0), "\(verify)")
        let counts = ["asia", "europe", "south_america", "fifth"].map { verify["rows"]?[$0]?["Station"]?.intValue ?? 0 }
        #expect(counts.reduce(0, +) == Int64(written) && counts.allSatisfy { $0 > Int64(written) / 8 }, "\(counts)")
        let all = try #require(try client.request(#"{"op":"query","model":"Station","limit":30000}"#)["objects"]?.arrayValue)
        #expect(Set(all.compactMap { $0["values"]?["code"]?.stringValue }) == Set((0..<written).map { "S\($0)" }))
        #expect(all.count == written)
        #expect(try client.request(#"{"op":"placement"}"#)["differs"] == .array([]))
        let inspection = try ShardInspection(daemon)
        for shard in inspection.shards.map(\.name) {
            #expect(try await MoveTests.scaffolding(inspection, shard) == 0, "\(shard)")
        }
        #expect(try await CommitTests.eventuallyNoLeftovers(inspection) == 0)
        #expect(daemon.stop() == 0)
    }
}
