import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// idle_transaction_timeout_ms and request_timeout_ms (protocol.md 6, 10).
@Suite struct TimeoutTests {
    static func config(_ server: String, pg: Bool = false) -> String {
        var text = DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "[server]\n" + server + "\n")
        if pg { text = text.replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"") }
        return text
    }

    @Test func anIdleTransactionIsRolledBackAndTheNextRequestIsTold() throws {
        let daemon = try Daemon(config: Self.config("idle_transaction_timeout_ms = 300"))
        let client = try daemon.client(), other = try daemon.client()
        #expect(try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#)["ok"] == .bool(true))
        usleep(900_000)
        // The shard's write lock was given back: another session writes to asia at once.
        #expect(try other.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Osaka"}}"#)["ok"] == .bool(true))
        #expect(try other.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let told = try client.request(#"{"op":"ping"}"#)
        #expect(told["error"]?["code"] == .string("transaction_aborted"))
        #expect(told["error"]?["shards"] == .array([.string("asia")]))
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true), "only once")
        #expect(try client.request(#"{"op":"identity_keys"}"#)["keys"] == .array([]))
        let cities = try client.request(#"{"op":"query","model":"WeatherLocation"}"#)
        guard case .array(let objects)? = cities["objects"] else { Issue.record("\(cities)"); return }
        #expect(objects.map { $0["values"]?["city"] } == [.string("Osaka")])
        #expect(daemon.log().contains("idle for more than 300 ms"))
        #expect(daemon.stop() == 0)
    }

    @Test func longStatementsAreCutAtTheRequestTimeoutOnBothBackends() async throws {
        let daemon = try Daemon(config: Self.config("request_timeout_ms = 500\nallow_raw_sql = true", pg: true),
                                environment: ["SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL()])
        let client = try daemon.client()
        for (shard, sql) in [("europe", "SELECT pg_sleep(5)"),
                             ("asia", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")] {
            let start = Date()
            let answer = try client.request(#"{"op":"sql","sql":"\#(sql)","shard":"\#(shard)"}"#)
            #expect(answer["error"]?["code"] == .string("timeout"), "\(shard): \(answer)")
            #expect(answer["error"]?["shard"] == .string(shard))
            #expect(Date().timeIntervalSince(start) < 4.5, "\(shard) was not cut short")
            #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        }
        #expect(try client.request(#"{"op":"sql","sql":"SELECT 1","shard":"europe"}"#)["rows"] == .array([.array([.int(1)])]))
        #expect(daemon.stop() == 0)
    }

    @Test func waitingForABusyPoolEndsAtTheRequestTimeout() throws {
        let config = Self.config("request_timeout_ms = 400")
            .replacingOccurrences(of: "url = \"sqlite:data/asia.db\"", with: "url = \"sqlite:data/asia.db\"\npool_size = 1")
        let daemon = try Daemon(config: config)
        let holder = try daemon.client(), waiter = try daemon.client()
        #expect(try holder.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#)["ok"] == .bool(true))
        let answer = try waiter.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Osaka"}}"#)
        #expect(answer["error"]?["code"] == .string("timeout"), "\(answer)")
        #expect(try holder.request(#"{"op":"commit"}"#)["shards"] == .array([.string("asia")]))
        #expect(try waiter.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Osaka"}}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
    }
}
