import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

/// Every error code of protocol.md 10 that the daemon core produces, each provoked over one
/// connection, which still answers `ping` afterwards.
@Suite struct ErrorCodeTests {
    @Test func eachCodeIsProvokedAndTheSessionGoesOn() async throws {
        // Its own application_name, so that only this daemon's connections are terminated below.
        let application = "shardd_errors_\(UInt32.random(in: 0...UInt32.max))"
        let europe = try await TestPostgres.freshSchemaURL() + "&application_name=\(application)"
        // best_effort: the commit below is the case where one shard commits and the other fails
        // (two_phase rolls both back: CommitTests).
        let config = TestConfig.weather(server: "max_result_rows = 3\ncommit = \"best_effort\"", extra: TestConfig.station)
            .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": europe])
        let client = try daemon.client()
        for city in ["Tokyo", "Osaka", "Kyoto", "Nara"] {
            _ = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"\#(city)"}}"#)
        }
        _ = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1},{"location_id":2}]}"#)
        _ = try client.request(#"{"op":"add","model":"Station","shard":"asia","values":{"code":"NRT","name":"Narita"}}"#)
        _ = try client.request(#"{"op":"add","model":"Station","shard":"north_america","values":{"code":"NRT","name":"Newark"}}"#)
        _ = try client.request(#"{"op":"commit"}"#)
        let fresh = try daemon.client()

        let cases: [(LineClient, String, String)] = [
            (client, "not json", "bad_json"),
            (client, #"{"op":"get","model":"Report"}"#, "bad_request"),
            (client, #"{"op":"get","model":"Report","pk":1,"color":"red"}"#, "bad_request"),
            (client, #"{"op":"fly"}"#, "unknown_op"),
            (client, #"{"op":"count","model":"Airport"}"#, "unknown_model"),
            (client, #"{"op":"query","model":"Report","order_by":["humidity"]}"#, "unknown_column"),
            (client, #"{"op":"get","model":"Report","pk":1,"shard":"moon"}"#, "unknown_shard"),
            (client, #"{"op":"load","key":["Report",[1],"asia"],"relationship":"station"}"#, "unknown_relationship"),
            (client, #"{"op":"add","model":"Report","values":{"location_id":1,"temperature":"hot"}}"#, "invalid_value"),
            (client, #"{"op":"add","model":"WeatherLocation","values":{"continent":"Atlantis","city":"x"}}"#, "no_shard"),
            (fresh, #"{"op":"get","model":"Station","pk":"NRT"}"#, "ambiguous_identity"),
            (client, #"{"op":"delete","key":["Report",[99],"asia"]}"#, "not_found"),
            (client, #"{"op":"add","model":"Station","shard":"asia","values":{"code":"HND","name":"Narita"}}"#, "constraint_violation"),
            (client, #"{"op":"update","key":["WeatherLocation",[1],"asia"],"values":{"continent":"Europe"}}"#, "shard_key_change"),
            (client, #"{"op":"query","model":"WeatherLocation"}"#, "result_too_large"),
        ]
        for (connection, line, code) in cases {
            let answer = try connection.request(line)
            #expect(answer["ok"] == .bool(false), "\(line)")
            #expect(answer["error"]?["code"] == .string(code), "\(line) -> \(answer)")
            #expect(try connection.request(#"{"op":"ping"}"#)["pong"] == .bool(true), "after \(code)")
        }
        // transaction_failed: the PostgreSQL shard loses the session's connection before
        // commit; the SQLite shard commits; both lists say so.
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Sapporo"}}"#)
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Oslo"}}"#)
        let admin = Shard.open(ShardSpec(name: "admin", location: .postgres(uri: try TestPostgres.baseURL()), poolSize: 1))
        defer { admin.close() }
        _ = try await admin.withConnection {
            try $0.run(Statement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [.text(application)]))
        }
        try await Task.sleep(for: .milliseconds(100))
        let failed = try client.request(#"{"op":"commit"}"#)
        #expect(failed["error"]?["code"] == .string("transaction_failed"), "\(failed)")
        #expect(failed["error"]?["committed"] == .array([.string("asia")]))
        #expect(failed["error"]?["failed"] == .array([.string("europe")]))
        #expect(failed["error"]?["outcome"] == .string("partial"))
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(try client.request(#"{"op":"count","model":"WeatherLocation","where":{"city":"Sapporo"}}"#)["count"] == .int(1))
        #expect(try client.request(#"{"op":"count","model":"WeatherLocation","where":{"city":"Oslo"}}"#)["count"] == .int(0))
        #expect(daemon.stop() == 0)
    }

    @Test func aShardThatIsDownFailsTheRequestsThatNeedItOnly() throws {
        let config = DefaultConfiguration.text + """

            [shards.offline]
            url = "postgresql://shardd:secret@127.0.0.1:1/none?connect_timeout=2"
            """
        let daemon = try Daemon(config: config)
        #expect(daemon.log().contains("offline"))
        #expect(!daemon.log().contains("secret"))
        let client = try daemon.client()
        #expect(try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#)["ok"] == .bool(true))
        let pinned = try client.request(#"{"op":"query","model":"Report","shard":"offline"}"#)
        #expect(pinned["error"]?["code"] == .string("shard_unavailable"))
        #expect(pinned["error"]?["shard"] == .string("offline"))
        guard case .string(let message)? = pinned["error"]?["message"] else { Issue.record("\(pinned)"); return }
        #expect(!message.contains("secret"))
        // A fan-out that needs it fails rather than answering from the other shards.
        #expect(try client.request(#"{"op":"count","model":"WeatherLocation"}"#)["error"]?["code"] == .string("shard_unavailable"))
        // What does not need it works.
        #expect(try client.request(#"{"op":"query","model":"WeatherLocation","where":{"continent":"Asia"}}"#)["shards"] == .array([.string("asia")]))
        #expect(try client.request(#"{"op":"commit"}"#)["shards"] == .array([.string("asia")]))
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.stop() == 0)
    }
}
