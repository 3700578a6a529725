import Foundation
import ShardClient
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// The dynamic API (column names, `ShardValue`, answers as `JSONValue`): every op of
/// protocol.md 8 and 9 once.
@Suite struct DynamicSessionTests {
    @Test func everyOpOfTheProtocol() async throws {
        let config = DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "[server]\nallow_raw_sql = true\n")
        let daemon = try Daemon(config: config)
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let db = session.dynamic

        let hello = try await db.hello(client: "dynamic-tests")
        #expect(hello["protocol"] == 1)
        #expect(hello["session"]?.intValue == session.server.session)
        #expect(hello["models"] == ["WeatherLocation", "Report"])
        #expect(try await db.ping().description == #"{"pong":true}"#)

        let tokyo = try await db.add(model: "WeatherLocation", values: ["continent": "Asia", "city": "Tokyo"])
        #expect(tokyo.description == #"{"objects":[{"key":["WeatherLocation",[1],"asia"],"values":{"id":1,"continent":"Asia","city":"Tokyo"}}]}"#)
        let rows: [ShardRow] = [["continent": "Europe", "city": "London"], ["continent": "North America", "city": "New York"]]
        let added = try await db.add(model: "WeatherLocation", rows: rows)
        let objects = try (added["objects"]?.arrayValue ?? []).map(ShardObject.init(json:))
        #expect(objects.map(\.key.token) == ["europe", "north_america"])
        #expect(objects.map { $0["city"] } == [.text("London"), .text("New York")])
        let report = try await db.add(model: "Report", values: ["location_id": 1, "temperature": 80.5, "report_time": ShardValue.timestamp(reportTime)])
        let reportObject = try ShardObject(json: report["objects"]?[0] ?? nil)
        #expect(reportObject.key == IdentityKey(model: "Report", primaryKey: [1], token: "asia"))
        #expect(reportObject["report_time"]?.dateValue == reportTime)
        #expect(reportObject["report_time"] == .text("2026-11-21T09:30:00.123456Z"))
        #expect(try await db.add(model: "Report", values: ["location_id": 3, "temperature": 70], shard: "north_america")["objects"]?[0]?["key"]
            == ["Report", [1], "north_america"])
        #expect(try await db.commit()["shards"] == ["north_america", "asia", "europe"])

        let got = try await db.get(model: "WeatherLocation", primaryKey: [1], include: ["reports"])
        let gotObject = try ShardObject(json: got["object"] ?? nil)
        guard case .many(let related)? = gotObject.related["reports"] else { Issue.record("\(got)"); return }
        #expect(related.map(\.key) == [reportObject.key])
        #expect(try await db.get(model: "WeatherLocation", primaryKey: [42], shard: "asia", fresh: true)["object"] == .null)

        let queried = try await db.query(model: "WeatherLocation", where: Column("continent").in(["Asia", "Europe"]),
                                         orderBy: ["-city"], limit: 5, offset: 0)
        #expect(queried["shards"] == ["asia", "europe"])
        #expect(queried["objects"]?.arrayValue?.compactMap { $0["values"]?["city"]?.stringValue } == ["Tokyo", "London"])
        let raw = try await db.query(model: "WeatherLocation", where: Predicate(json: try JSONValue(parsing: #"["starts_with","city","N"]"#)), shards: ["north_america"])
        #expect(raw["objects"]?.arrayValue?.count == 1)
        #expect(try await db.count(model: "Report", where: Column("temperature") > 0)["count"] == 2)
        let aggregate = try await db.aggregate(model: "Report", select: [.sum("temperature", as: "total"), .count()],
                                               where: Column("temperature").isNotNull, shards: ["asia", "north_america"])
        #expect(aggregate.description == #"{"rows":[{"total":150.5,"count":2}],"shards":["north_america","asia"]}"#)

        let updated = try await db.update(key: reportObject.key, values: ["temperature": 81])
        #expect(updated["object"]?["values"]?["temperature"] == 81.0)
        #expect(try await db.load(key: reportObject.key, relationship: "location")["object"]?["values"]?["city"] == "Tokyo")
        #expect(try await db.load(key: gotObject.key, relationship: "reports")["objects"]?.arrayValue?.count == 1)
        #expect(try await db.refresh(key: reportObject.key)["object"]?["key"] == reportObject.key.json)
        #expect(try await db.updateWhere(model: "Report", where: .equals(["location_id": 3]), values: ["temperature": ShardValue.null])["count"] == 1)
        #expect(try await db.begin()["shards"] == ["north_america", "asia"])
        #expect(try await db.rollback()["shards"] == ["north_america", "asia"])
        #expect(try await db.deleteWhere(model: "Report", where: Column("location_id") == 3)["per_shard"] == ["north_america": 1])
        #expect(try await db.delete(key: reportObject.key) == ["deleted": true])
        #expect(try await db.commit()["shards"]?.arrayValue?.contains("asia") == true)
        #expect(try await db.query(model: "WeatherLocation")["objects"]?.arrayValue?.count == 3)
        #expect(try await db.identityKeys(model: "Report") == ["keys": []])
        let keys = try await db.identityKeys()["keys"]?.arrayValue ?? []
        #expect(keys.count == 3)
        #expect(try await db.expunge(key: IdentityKey(json: keys[0]))["expunged"] == true)
        #expect(try await db.expungeAll()["expunged"] == 2)

        let sql = try await db.sql("SELECT city FROM weather_locations WHERE id <= $1 ORDER BY id", params: [2], shards: ["asia", "europe"])
        #expect(sql.description == #"{"columns":["city"],"rows":[["Tokyo"],["London"]],"shards":["asia","europe"]}"#)
        let typedSQL = try await session.sql("SELECT count(*) AS n FROM weather_reports", shards: ["asia"])
        #expect(typedSQL.columns == ["n"])
        #expect(typedSQL.rows == [[0]])

        // Admin ops.
        let shards = try await db.shards()
        #expect(shards["shards"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["north_america", "asia", "europe", "south_america"])
        #expect(shards["shards"]?[1]?["rows"]?["WeatherLocation"] == 1)
        let sessions = try await db.sessions()
        #expect(sessions["sessions"]?.arrayValue?.contains { $0["session"]?.intValue == session.server.session } == true)
        let other = try await ShardSession.connect(socketPath: daemon.socketPath)
        _ = try await other.get(WeatherLocation.self, 1)
        let otherKeys = try await db.keys(session: other.server.session, model: "WeatherLocation", limit: 10)
        #expect(otherKeys == ["keys": [["session": .int(other.server.session), "key": ["WeatherLocation", [1], "asia"]]]])
        let stats = try await db.stats()
        #expect((stats["requests"]?["query"]?.intValue ?? 0) >= 2)
        #expect(stats["uptime_s"] != nil)
        // The escape hatch: any op with JSON arguments.
        #expect(try await db.request("identity_keys", ["model": "WeatherLocation"]) == ["keys": []])
    }
}
