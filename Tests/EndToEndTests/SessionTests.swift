import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// protocol.md 4-8 against the real daemon on real SQLite files: SQLAlchemy's weather scenario,
/// the identity map, transactions, routing and errors.
@Suite struct SessionTests {
    static func key(_ model: String, _ id: Int64, _ shard: String) -> JSONValue {
        .array([.string(model), .array([.int(id)]), .string(shard)])
    }

    /// Adds SQLAlchemy's cities and one report each; returns nothing, asserts the placement.
    static func seed(_ client: LineClient) throws {
        let cities = [("North America", "New York", "north_america"), ("Asia", "Tokyo", "asia"),
                      ("South America", "Quito", "south_america"), ("Europe", "London", "europe")]
        for (index, (continent, city, shard)) in cities.enumerated() {
            let added = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"\#(continent)","city":"\#(city)"}}"#)
            #expect(added["objects"] == .array([.object(JSONObject([
                ("key", key("WeatherLocation", Int64(index + 1), shard)),
                ("values", .object(JSONObject([("id", .int(Int64(index + 1))), ("continent", .string(continent)), ("city", .string(city))]))),
            ]))]), "\(added)")
        }
        let reports = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":75},{"location_id":2,"temperature":80},{"location_id":3,"temperature":85,"report_time":"2026-11-21T09:30:00.250Z"}]}"#)
        guard case .array(let objects)? = reports["objects"] else { Issue.record("\(reports)"); return }
        #expect(objects.map { $0["key"] } == [key("Report", 1, "north_america"), key("Report", 1, "asia"), key("Report", 1, "south_america")])
        #expect(try client.request(#"{"op":"commit"}"#)["shards"] == .array(["north_america", "asia", "europe", "south_america"].map(JSONValue.string)))
    }

    @Test func theWeatherScenario() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        try Self.seed(client)

        // get by primary key: the identity chooser finds Tokyo on asia.
        let tokyo = try daemon.client().request(#"{"op":"get","model":"WeatherLocation","pk":2}"#)
        #expect(tokyo["object"]?["key"] == Self.key("WeatherLocation", 2, "asia"))
        // The in query goes to two shards only, ordered by city across them.
        let query = try client.request(#"{"op":"query","model":"WeatherLocation","where":["in","continent",["Europe","Asia"]],"order_by":["city"]}"#)
        #expect(query["shards"] == .array([.string("asia"), .string("europe")]))
        #expect(query["objects"].map { objects -> [JSONValue?] in
            guard case .array(let list) = objects else { return [] }
            return list.map { $0["values"]?["city"] }
        } == [.string("London"), .string("Tokyo")])
        // The query pinned to north_america (set_shard_id).
        let pinned = try client.request(#"{"op":"query","model":"Report","shard":"north_america"}"#)
        #expect(pinned["shards"] == .array([.string("north_america")]))
        // Two reports with id 1 are two identities.
        let keys = try client.request(#"{"op":"identity_keys","model":"Report"}"#)
        guard case .array(let list)? = keys["keys"] else { Issue.record("\(keys)"); return }
        #expect(Set(list.map(\.serialized)) == Set([Self.key("Report", 1, "north_america"), Self.key("Report", 1, "asia"), Self.key("Report", 1, "south_america")].map(\.serialized)))
        // Children are routed through parents the session knows.
        let children = try client.request(#"{"op":"query","model":"Report","where":{"location_id":2}}"#)
        #expect(children["shards"] == .array([.string("asia")]))
        // Without a shard, a pk on several shards is ambiguous, with the candidate keys.
        let fresh = try daemon.client().request(#"{"op":"get","model":"Report","pk":1}"#)
        #expect(fresh["error"]?["code"] == .string("ambiguous_identity"))
        guard case .array(let candidates)? = fresh["error"]?["keys"] else { Issue.record("\(fresh)"); return }
        #expect(candidates.count == 3)
        // Loads follow the token.
        let reports = try client.request(#"{"op":"load","key":["WeatherLocation",[2],"asia"],"relationship":"reports"}"#)
        #expect(reports["objects"].map { if case .array(let l) = $0 { l.count } else { -1 } } == 1)
        let location = try client.request(#"{"op":"load","key":["Report",[1],"south_america"],"relationship":"location"}"#)
        #expect(location["object"]?["values"]?["city"] == .string("Quito"))
        #expect(daemon.stop() == 0)
    }

    @Test func getIsAnsweredFromTheIdentityMapUntilFreshOrExpunged() throws {
        let daemon = try Daemon()
        let a = try daemon.client(), b = try daemon.client()
        try Self.seed(a)
        #expect(try a.request(#"{"op":"get","model":"Report","pk":1,"shard":"asia"}"#)["object"]?["values"]?["temperature"] == .double(80))
        // Another session changes the row; this session's map still answers, with no SQL.
        #expect(try b.request(#"{"op":"update","key":["Report",[1],"asia"],"values":{"temperature":90}}"#)["ok"] == .bool(true))
        #expect(try b.request(#"{"op":"commit"}"#)["shards"] == .array([.string("asia")]))
        #expect(try a.request(#"{"op":"get","model":"Report","pk":1,"shard":"asia"}"#)["object"]?["values"]?["temperature"] == .double(80))
        #expect(try a.request(#"{"op":"get","model":"Report","pk":1,"shard":"asia","fresh":true}"#)["object"]?["values"]?["temperature"] == .double(90))
        #expect(try a.request(#"{"op":"update","key":["Report",[1],"asia"],"values":{"temperature":91}}"#)["object"]?["values"]?["temperature"] == .double(91))
        #expect(try a.request(#"{"op":"expunge","key":["Report",[1],"asia"]}"#)["expunged"] == .bool(true))
        #expect(try a.request(#"{"op":"expunge","key":["Report",[1],"asia"]}"#)["expunged"] == .bool(false))
        #expect(try a.request(#"{"op":"expunge_all"}"#)["expunged"] != .int(0))
        #expect(try a.request(#"{"op":"identity_keys"}"#)["keys"] == .array([]))
        #expect(daemon.stop() == 0)
    }

    @Test func rollbackUndoesAndEmptiesTheMapAFailedRequestChangesNothing() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        try Self.seed(client)
        #expect(try client.request(#"{"op":"begin"}"#)["shards"] == .array([]))
        _ = try client.request(#"{"op":"update","key":["Report",[1],"asia"],"values":{"temperature":99}}"#)
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Oslo"}}"#)
        #expect(try client.request(#"{"op":"rollback"}"#)["shards"] == .array([.string("asia"), .string("europe")]))
        #expect(try client.request(#"{"op":"identity_keys"}"#)["keys"] == .array([]))
        #expect(try client.request(#"{"op":"get","model":"Report","pk":1,"shard":"asia"}"#)["object"]?["values"]?["temperature"] == .double(80))
        #expect(try client.request(#"{"op":"count","model":"WeatherLocation"}"#)["count"] == .int(4))

        // A batch whose last row cannot be placed adds nothing, on any shard.
        let bad = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Seoul"},{"continent":"Mars","city":"x"}]}"#)
        #expect(bad["error"]?["code"] == .string("no_shard"))
        #expect(try client.request(#"{"op":"count","model":"WeatherLocation"}"#)["count"] == .int(4))
        #expect(try client.request(#"{"op":"commit"}"#)["shards"] == .array([]))
        #expect(daemon.stop() == 0)
    }

    @Test func aShardRejectingPartOfABatchUndoesTheWholeRequestOnEveryShard() throws {
        let config = DefaultConfiguration.text + """

            [models.Station]
            id = "client"
            primary_key = ["code"]
            shard_by = { column = "region", map = { "asia" = "asia", "europe" = "europe", "south_america" = "south_america" } }
            [models.Station.columns]
            code = "text"
            region = { type = "text", nullable = false }
            name = { type = "text", unique = true }
            """
        let daemon = try Daemon(config: config)
        let client = try daemon.client()
        #expect(try client.request(#"{"op":"begin"}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"add","model":"Station","rows":[{"code":"NRT","region":"asia","name":"Narita"},{"code":"OSL","region":"europe","name":"Oslo"}]}"#)["ok"] == .bool(true))
        // One request over three shards: europe (already in the transaction: a savepoint),
        // south_america (new to it: its own BEGIN) and asia, which refuses a repeated name.
        let failed = try client.request(#"{"op":"add","model":"Station","rows":[{"code":"LHR","region":"europe","name":"Heathrow"},{"code":"GIG","region":"south_america","name":"Galeao"},{"code":"HND","region":"asia","name":"Narita"}]}"#)
        #expect(failed["error"]?["code"] == .string("constraint_violation"), "\(failed)")
        #expect(failed["error"]?["shard"] == .string("asia"))
        #expect(try client.request(#"{"op":"identity_keys","model":"Station"}"#)["keys"].map { if case .array(let l) = $0 { l.count } else { -1 } } == 2)
        // The transaction goes on and commits only what succeeded before.
        #expect(try client.request(#"{"op":"add","model":"Station","values":{"code":"CDG","region":"europe","name":"Paris"}}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["shards"] == .array([.string("asia"), .string("europe")]))
        let all = try daemon.client().request(#"{"op":"query","model":"Station","order_by":["code"]}"#)
        guard case .array(let stations)? = all["objects"] else { Issue.record("\(all)"); return }
        #expect(stations.map { $0["values"]?["code"] } == ["CDG", "NRT", "OSL"].map { JSONValue.string($0) })
        #expect(daemon.stop() == 0)
    }

    @Test func errorsNameWhatIsWrong() throws {
        let config = "[server]\nmax_result_rows = 2\n" + DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "")
        let daemon = try Daemon(config: config)
        let client = try daemon.client()
        try Self.seed(client)
        let cases: [(String, String)] = [
            (#"{"op":"get","model":"Nope","pk":1}"#, "unknown_model"),
            (#"{"op":"query","model":"Report","where":{"humidity":1}}"#, "unknown_column"),
            (#"{"op":"query","model":"Report","shard":"antarctica"}"#, "unknown_shard"),
            (#"{"op":"add","model":"Report","values":{"location_id":"1"}}"#, "invalid_value"),
            (#"{"op":"add","model":"Report","values":{"location_id":42}}"#, "no_shard"),
            (#"{"op":"update","key":["WeatherLocation",[2],"asia"],"values":{"continent":"Europe"}}"#, "shard_key_change"),
            (#"{"op":"refresh","key":["Report",[7],"asia"]}"#, "not_found"),
            (#"{"op":"load","key":["Report",[1],"asia"],"relationship":"station"}"#, "unknown_relationship"),
            (#"{"op":"query","model":"Report"}"#, "result_too_large"),
            (#"{"op":"query","model":"Report","where":["near","location_id",1]}"#, "bad_request"),
        ]
        for (line, code) in cases {
            let answer = try client.request(line)
            #expect(answer["error"]?["code"] == .string(code), "\(line) -> \(answer)")
        }
        // A limit at or below max_result_rows is answered.
        #expect(try client.request(#"{"op":"query","model":"Report","order_by":["-temperature"],"limit":2}"#)["ok"] == .bool(true))
        // Updating the shard key to a value of the same shard is not a move.
        #expect(try client.request(#"{"op":"update","key":["WeatherLocation",[2],"asia"],"values":{"continent":"Asia","city":"Kyoto"}}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    @Test func countAndOrderedLimitsAcrossShards() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        try Self.seed(client)
        let count = try client.request(#"{"op":"count","model":"Report","where":[">=","temperature",80]}"#)
        #expect(count["count"] == .int(2))
        #expect(count["per_shard"] == .object(JSONObject([("north_america", .int(0)), ("asia", .int(1)), ("europe", .int(0)), ("south_america", .int(1))])))
        let top = try client.request(#"{"op":"query","model":"Report","order_by":["-temperature"],"limit":2,"offset":1}"#)
        guard case .array(let rows)? = top["objects"] else { Issue.record("\(top)"); return }
        #expect(rows.map { $0["values"]?["temperature"] } == [.double(80), .double(75)])
        #expect(daemon.stop() == 0)
    }
}
