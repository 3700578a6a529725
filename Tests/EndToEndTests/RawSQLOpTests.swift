import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

@Suite struct RawSQLOpTests {
    @Test func refusedUnlessEnabled() throws {
        let daemon = try Daemon()
        let answer = try daemon.client().request(#"{"op":"sql","sql":"SELECT 1","shard":"asia"}"#)
        #expect(answer["error"]?["code"] == .string("forbidden"))
        #expect(daemon.stop() == 0)
    }

    @Test func runsOnTheNamedShardsOfMixedBackendsAndNeverFillsTheIdentityMap() async throws {
        let config = "[server]\nallow_raw_sql = true\n" + DefaultConfiguration.text
            .replacingOccurrences(of: "[server]\n", with: "")
            .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL()])
        let client = try daemon.client()
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Europe","city":"London"},{"continent":"Europe","city":"Dublin"}]}"#)
        _ = try client.request(#"{"op":"commit"}"#)
        _ = try client.request(#"{"op":"expunge_all"}"#)
        let answer = try client.request(#"{"op":"sql","sql":"SELECT city, id FROM weather_locations WHERE id >= $1 ORDER BY id","params":[1],"shards":["europe","asia"]}"#)
        #expect(answer["columns"] == .array([.string("city"), .string("id")]))
        #expect(answer["shards"] == .array([.string("asia"), .string("europe")]))
        #expect(answer["rows"] == .array([
            .array([.string("Tokyo"), .int(1)]), .array([.string("London"), .int(2)]), .array([.string("Dublin"), .int(3)]),
        ]))
        #expect(try client.request(#"{"op":"identity_keys"}"#)["keys"] == .array([]))
        #expect(try client.request(#"{"op":"sql","sql":"SELECT 1"}"#)["error"]?["code"] == .string("bad_request"))
        let refused = try client.request(#"{"op":"sql","sql":"SELEC 1","shard":"europe"}"#)
        #expect(refused["error"]?["code"] == .string("bad_request"))
        #expect(refused["error"]?["shard"] == .string("europe"))
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    /// With two_phase commits, sql may read but not write on shards the transaction holds,
    /// on both backends; elsewhere (and outside a transaction) it writes as before.
    @Test func insideATwoPhaseTransactionSQLOnlyReadsTheShardsItHolds() async throws {
        let config = "[server]\nallow_raw_sql = true\n" + DefaultConfiguration.text
            .replacingOccurrences(of: "[server]\n", with: "")
            .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL()])
        let client = try daemon.client()
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Europe","city":"London"}]}"#)
        // Both shards are in the transaction now: reads see its rows, writes are refused.
        for shard in ["asia", "europe"] {
            let read = try client.request(#"{"op":"sql","sql":"SELECT count(*) FROM weather_locations","shard":"\#(shard)"}"#)
            #expect(read["rows"] == .array([.array([.int(1)])]), "\(shard): \(read)")
            let write = try client.request(#"{"op":"sql","sql":"UPDATE weather_locations SET city = 'X'","shard":"\#(shard)"}"#)
            #expect(write["error"]?["code"] == .string("bad_request"), "\(shard): \(write)")
            #expect(write["error"]?["message"]?.stringValue?.contains("may only read there") == true)
            #expect(write["error"]?["shard"] == .string(shard))
        }
        // The transaction goes on, unchanged, and commits.
        #expect(try client.request(#"{"op":"commit"}"#)["txid"] != nil)
        let cities = try client.request(#"{"op":"sql","sql":"SELECT city FROM weather_locations ORDER BY city","shards":["asia","europe"]}"#)
        #expect(cities["rows"] == .array([.array([.string("Tokyo")]), .array([.string("London")])]))
        // Outside a transaction, sql writes.
        #expect(try client.request(#"{"op":"sql","sql":"UPDATE weather_locations SET city = 'Kyoto'","shard":"asia"}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
    }
}
