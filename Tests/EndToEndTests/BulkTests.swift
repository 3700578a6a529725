import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// update_where / delete_where in sync with the identity map, shard by shard (issue 4's
/// SQLAlchemy bulk cases with identity tokens).
@Suite struct BulkTests {
    @Test(arguments: WeatherScenarioTests.Layout.allCases)
    func bulkChangesKeepTheIdentityMapTruePerShard(layout: WeatherScenarioTests.Layout) async throws {
        let daemon = try await WeatherScenarioTests.daemon(layout)
        let client = try daemon.client()
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"North America","city":"New York"},{"continent":"South America","city":"Quito"}]}"#)
        _ = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80},{"location_id":2,"temperature":75},{"location_id":3,"temperature":85}]}"#)
        _ = try client.request(#"{"op":"commit"}"#)

        // A fresh session loads the three reports, then changes them in bulk.
        let session = try daemon.client()
        let loaded = try session.request(#"{"op":"query","model":"Report","order_by":["location_id"]}"#)
        #expect(Self.temperatures(loaded) == [80, 75, 85])
        let updated = try session.request(#"{"op":"update_where","model":"Report","where":[">=","temperature",80],"values":{"temperature":86}}"#)
        #expect(updated["count"] == .int(2))
        #expect(updated["per_shard"] == .object(JSONObject([("asia", .int(1)), ("south_america", .int(1))])))
        #expect(updated["shards"] == .array(["north_america", "asia", "europe", "south_america"].map(JSONValue.string)))

        // The session's objects read 86, 75, 86 from the map: the other shard's report 1 is untouched.
        var seen: [Double] = []
        for shard in ["asia", "north_america", "south_america"] {
            let got = try session.request(#"{"op":"get","model":"Report","pk":1,"shard":"\#(shard)"}"#)
            if case .double(let t)? = got["object"]?["values"]?["temperature"] { seen.append(t) }
        }
        #expect(seen == [86, 75, 86])
        // And the rows say so in the session's transaction.
        #expect(Self.temperatures(try session.request(#"{"op":"query","model":"Report","order_by":["location_id"]}"#)) == [86, 75, 86])

        let deleted = try session.request(#"{"op":"delete_where","model":"Report","where":[">=","temperature",80]}"#)
        #expect(deleted["count"] == .int(2))
        #expect(deleted["per_shard"] == .object(JSONObject([("asia", .int(1)), ("south_america", .int(1))])))
        let keys = try session.request(#"{"op":"identity_keys","model":"Report"}"#)
        #expect(keys["keys"] == .array([.array([.string("Report"), .array([.int(1)]), .string("north_america")])]))
        #expect(Self.temperatures(try session.request(#"{"op":"query","model":"Report"}"#)) == [75])
        _ = try session.request(#"{"op":"commit"}"#)
        #expect(Self.temperatures(try daemon.client().request(#"{"op":"query","model":"Report"}"#)) == [75])

        // Narrowed like query; the shard key and primary key are refused.
        let narrowed = try session.request(#"{"op":"update_where","model":"WeatherLocation","where":{"continent":"Asia"},"values":{"city":"Kyoto"}}"#)
        #expect(narrowed["shards"] == .array([.string("asia")]))
        #expect(narrowed["count"] == .int(1))
        #expect(try session.request(#"{"op":"update_where","model":"WeatherLocation","values":{"continent":"Europe"}}"#)["error"]?["code"] == .string("shard_key_change"))
        #expect(try session.request(#"{"op":"update_where","model":"Report","values":{"id":5}}"#)["error"]?["code"] == .string("bad_request"))
        // A failed bulk change changes nothing.
        #expect(try session.request(#"{"op":"update_where","model":"WeatherLocation","values":{"city":null}}"#)["error"]?["code"] == .string("invalid_value"))
        _ = try session.request(#"{"op":"rollback"}"#)
        #expect(daemon.stop() == 0)
    }

    static func temperatures(_ answer: JSONValue) -> [Double] {
        guard case .array(let objects)? = answer["objects"] else { return [-1] }
        return objects.compactMap { if case .double(let t)? = $0["values"]?["temperature"] { t } else { nil } }
    }
}
