import Testing
import ShardCore
import ShardProtocol

@Suite struct NewRowTests {
    static let configuration = try! ConfigLoader.parse(
        DefaultConfiguration.text + """

            [models.Station]
            id = "client"
            primary_key = ["code"]
            [models.Station.columns]
            code = "text"
            opened = { type = "timestamp", nullable = false }
            active = "bool"

            [models.Version]
            id = "client"
            [models.Version.columns]
            id = "int"
            status = { type = "text", nullable = false, server_default = "draft" }
            revision = { type = "int", nullable = false, default = 1 }
            time_updated = { type = "timestamp", default = "now", on_update = "now" }
            """,
        file: "shards.conf", baseDirectory: "/srv", environment: [:])
    let location = configuration.model(named: "WeatherLocation")!
    let report = configuration.model(named: "Report")!
    let station = configuration.model(named: "Station")!
    let version = configuration.model(named: "Version")!

    @Test func sequenceRowsLeaveTheKeyToTheDaemon() throws {
        let row = try location.newRow(["continent": .text("Asia"), "city": .text("Tokyo")])
        #expect(row == ["continent": .text("Asia"), "city": .text("Tokyo")])
        let given = #expect(throws: RowError.self) { try location.newRow(["id": .int(5), "continent": .text("Asia"), "city": .text("Tokyo")]) }
        #expect(given?.code == .invalidValue)
        #expect(given?.column == "id")
        #expect(given?.message.contains("id = \"client\"") == true)
    }

    @Test func shardLocalRowsLeaveTheKeyToTheShardAndFillNulls() throws {
        let row = try report.newRow(["location_id": .int(1), "temperature": .int(80)])
        #expect(row == ["location_id": .int(1), "temperature": .real(80), "report_time": .null])
        #expect(throws: RowError.self) { try report.newRow(["id": .int(1), "location_id": .int(1)]) }
    }

    @Test func clientKeysAreRequired() throws {
        let missing = #expect(throws: RowError.self) { try station.newRow(["opened": .timestamp(Timestamp(microseconds: 0))]) }
        #expect(missing?.column == "code")
        #expect(missing?.message.contains("required") == true)
        let nullKey = #expect(throws: RowError.self) { try station.newRow(["code": .null, "opened": .timestamp(Timestamp(microseconds: 0))]) }
        #expect(nullKey?.code == .invalidValue)
        let row = try station.newRow(["code": .text("OSL"), "opened": .timestamp(Timestamp(microseconds: 0))])
        #expect(row["code"] == .text("OSL"))
        #expect(row["active"] == .null)
    }

    @Test func unknownColumnsWrongTypesAndMissingRequiredValuesAreRefused() {
        let unknown = #expect(throws: RowError.self) { try location.newRow(["continent": .text("Asia"), "city": .text("x"), "country": .text("JP")]) }
        #expect(unknown?.code == .unknownColumn)
        #expect(unknown?.message.contains("columns: id, continent, city") == true)
        // Several unknown: the first by name is named, whatever the dictionary's order.
        let two = #expect(throws: RowError.self) { try location.newRow(["zeta": .int(1), "city": .text("x"), "alpha": .int(2), "continent": .text("Asia")]) }
        #expect(two?.column == "alpha")
        let wrong = #expect(throws: RowError.self) { try report.newRow(["location_id": .text("1")]) }
        #expect(wrong?.code == .invalidValue)
        #expect(wrong?.column == "location_id")
        let required = #expect(throws: RowError.self) { try location.newRow(["continent": .text("Asia")]) }
        #expect(required?.column == "city")
        let nan = #expect(throws: RowError.self) { try report.newRow(["location_id": .int(1), "temperature": .real(.nan)]) }
        #expect(nan?.column == "temperature")
    }

    /// config.md's defaults: `default` filled (the clock at the request's instant), a
    /// `server_default` column left out for the shard, a given value kept.
    @Test func defaultsFillWhatTheRequestLeavesOut() throws {
        let now = Timestamp(microseconds: 1_767_225_600_000_000)
        let row = try version.newRow(["id": .int(1)], now: now)
        #expect(row == ["id": .int(1), "revision": .int(1), "time_updated": .timestamp(now)])
        let given = try version.newRow(["id": .int(2), "status": .text("final"), "revision": .int(3), "time_updated": .null], now: now)
        #expect(given == ["id": .int(2), "status": .text("final"), "revision": .int(3), "time_updated": .null])
        let required = #expect(throws: RowError.self) { try station.newRow(["code": .text("OSL")]) }
        #expect(required?.message == "Station.opened is required (the column is not nullable and has no default or server_default)")
    }
}
