import Foundation
import ShardClient
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Values: timestamps as RFC 3339 UTC with microseconds, ints as exact Int64, JSON printing;
/// and the same through a PostgreSQL shard.
@Suite struct ValueTests {
    @Test func timestampsAreSentWithMicrosecondsInUTC() {
        #expect(ShardValue.timestamp(Date(timeIntervalSince1970: 1_795_253_400)).description == #""2026-11-21T09:30:00.000000Z""#)
        #expect(ShardValue.timestamp(Date(timeIntervalSince1970: 1_795_253_400.000250)).description == #""2026-11-21T09:30:00.000250Z""#)
        #expect(ShardValue.timestamp(Date(timeIntervalSince1970: -0.5)).description == #""1969-12-31T23:59:59.500000Z""#)
        #expect(ShardValue.timestamp(Date(timeIntervalSince1970: 0)).description == #""1970-01-01T00:00:00.000000Z""#)
    }

    @Test func timestampsAreReadInEachFormOfTheDaemon() {
        let base = Date(timeIntervalSince1970: 1_795_253_400)
        #expect(ShardValue.text("2026-11-21T09:30:00Z").dateValue == base)
        #expect(ShardValue.text("2026-11-21T09:30:00.250Z").dateValue == base.addingTimeInterval(0.25))
        #expect(ShardValue.text("2026-11-21T09:30:00.000250Z").dateValue == Date(timeIntervalSince1970: 1_795_253_400.000250))
        #expect(ShardValue.text("2026-11-21T10:30:00+01:00").dateValue == base)
        #expect(ShardValue.text("Tokyo").dateValue == nil)
        // Every microsecond of a second survives the trip through Date.
        for micros in stride(from: 0, to: 1_000_000, by: 997) {
            let text = String(format: "2026-11-21T09:30:00.%06dZ", micros)
            let date = ShardValue.text(text).dateValue!
            #expect(ShardValue.timestamp(date).description == "\"\(text)\"")
        }
    }

    @Test func valuesAndJSON() throws {
        let row: ShardRow = ["id": Int64.max, "low": Int64.min, "t": 1.5, "s": "a\"b", "b": false, "n": ShardValue.null]
        #expect(row.description == #"{"id":9223372036854775807,"low":-9223372036854775808,"t":1.5,"s":"a\"b","b":false,"n":null}"#)
        #expect(try ShardRow(json: row.json) == row)
        let json = try JSONValue(parsing: #"{"a":[1,2.5,"x",null,true],"b":{"c":-9223372036854775808}}"#)
        #expect(json["a"]?[1] == 2.5)
        #expect(json["b"]?["c"]?.intValue == Int64.min)
        #expect(json.description == #"{"a":[1,2.5,"x",null,true],"b":{"c":-9223372036854775808}}"#)
        #expect(throws: ShardError.self) { try JSONValue(parsing: #"{"a":1,"a":2}"#) }
        let key = try IdentityKey(json: ["Report", [1], "asia"])
        #expect(key == IdentityKey(model: "Report", primaryKey: [.int(1)], token: "asia"))
        #expect(key.description == #"["Report",[1],"asia"]"#)
        #expect(throws: ShardError.self) { try IdentityKey(json: ["Report", 1]) }
        #expect(ShardValue.real(.nan).json == .null)
    }

    @Test func exactIntsAndMicrosecondsThroughPostgreSQL() async throws {
        let europe = try await TestPostgres.freshSchemaURL()
        let config = DefaultConfiguration.text.replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
        let daemon = try Daemon(config: config, environment: ["SHARDD_EUROPE_URL": europe])
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let london = try await session.add(WeatherLocation(continent: "Europe", city: "London"))
        let instant = Date(timeIntervalSince1970: 1_795_253_400.654321)
        let report = try await session.add(Report(locationID: london.id!, temperature: 0.1, reportTime: instant))
        // Rows placed by an explicit shard may hold any parent key: the extremes of Int64.
        let extremes = try await session.add(contentsOf: [Report(locationID: .max), Report(locationID: .min)], shard: "europe")
        try await session.commit()
        let other = try await ShardSession.connect(socketPath: daemon.socketPath)
        let read = try #require(try await other.get(report.key, as: Report.self))
        #expect(read.reportTime == instant)
        #expect(read.temperature == 0.1)
        #expect(try await other.query(Report.self).where(Column("report_time") == instant).count() == 1)
        let extremesRead = try await other.query(Report.self).where(Column("location_id").in([Int64.max, Int64.min])).orderBy("location_id").all()
        #expect(extremesRead.map(\.locationID) == [.min, .max])
        #expect(extremesRead.map(\.key.shard) == ["europe", "europe"])
        #expect(extremes.map(\.locationID) == [.max, .min])
    }
}
