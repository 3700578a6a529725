import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// SQLAlchemy's examples/sharding weather scenario over the socket, on four SQLite shards and
/// on two SQLite plus two PostgreSQL shards.
@Suite struct WeatherScenarioTests {
    enum Layout: String, CaseIterable { case sqlite, mixed }

    static func daemon(_ layout: Layout) async throws -> Daemon {
        switch layout {
        case .sqlite:
            return try Daemon()
        case .mixed:
            let config = DefaultConfiguration.text
                .replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
                .replacingOccurrences(of: "url = \"sqlite:data/south_america.db\"", with: "url_env = \"SHARDD_SOUTH_AMERICA_URL\"")
            return try Daemon(config: config, environment: [
                "SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL(),
                "SHARDD_SOUTH_AMERICA_URL": try await TestPostgres.freshSchemaURL(),
            ])
        }
    }

    static func key(_ model: String, _ id: Int64, _ shard: String) -> JSONValue {
        .array([.string(model), .array([.int(id)]), .string(shard)])
    }

    static func cities(_ answer: JSONValue) -> [String] {
        guard case .array(let objects)? = answer["objects"] else { return ["<\(answer)>"] }
        return objects.map { if case .string(let city)? = $0["values"]?["city"] { city } else { "?" } }
    }

    @Test(arguments: Layout.allCases)
    func theScenario(layout: Layout) async throws {
        let daemon = try await Self.daemon(layout)
        let client = try daemon.client()
        let cities: [(String, String, String)] = [
            ("Tokyo", "Asia", "asia"), ("New York", "North America", "north_america"), ("Toronto", "North America", "north_america"),
            ("London", "Europe", "europe"), ("Dublin", "Europe", "europe"), ("Brasilia", "South America", "south_america"),
            ("Quito", "South America", "south_america"),
        ]
        for (index, (city, continent, shard)) in cities.enumerated() {
            let added = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"\#(continent)","city":"\#(city)"}}"#)
            #expect(added["objects"].flatMap { if case .array(let l) = $0 { l.first?["key"] } else { nil } } == Self.key("WeatherLocation", Int64(index + 1), shard), "\(city): \(added)")
        }
        let reports = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80.0},{"location_id":2,"temperature":75},{"location_id":7,"temperature":85}]}"#)
        guard case .array(let added)? = reports["objects"] else { Issue.record("\(reports)"); return }
        #expect(added.map { $0["key"] } == [Self.key("Report", 1, "asia"), Self.key("Report", 1, "north_america"), Self.key("Report", 1, "south_america")])
        #expect(try client.request(#"{"op":"commit"}"#)["shards"] == .array(["north_america", "asia", "europe", "south_america"].map(JSONValue.string)))

        // get of id 1 is Tokyo; the second get issues no SQL: a change made behind the
        // session's back is not seen until fresh.
        let reader = try daemon.client()
        #expect(try reader.request(#"{"op":"get","model":"WeatherLocation","pk":1}"#)["object"]?["values"]?["city"] == .string("Tokyo"))
        _ = try client.request(#"{"op":"update","key":["WeatherLocation",[1],"asia"],"values":{"city":"Tōkyō"}}"#)
        _ = try client.request(#"{"op":"commit"}"#)
        #expect(try reader.request(#"{"op":"get","model":"WeatherLocation","pk":1}"#)["object"]?["values"]?["city"] == .string("Tokyo"))
        #expect(try reader.request(#"{"op":"get","model":"WeatherLocation","pk":1,"fresh":true}"#)["object"]?["values"]?["city"] == .string("Tōkyō"))
        _ = try client.request(#"{"op":"update","key":["WeatherLocation",[1],"asia"],"values":{"city":"Tokyo"}}"#)
        _ = try client.request(#"{"op":"commit"}"#)

        let europeAsia = try reader.request(#"{"op":"query","model":"WeatherLocation","where":["in","continent",["Europe","Asia"]],"order_by":["id"]}"#)
        #expect(Self.cities(europeAsia) == ["Tokyo", "London", "Dublin"])
        #expect(europeAsia["shards"] == .array([.string("asia"), .string("europe")]))

        let pinned = try reader.request(#"{"op":"query","model":"WeatherLocation","where":["starts_with","city","T"],"shard":"north_america"}"#)
        #expect(Self.cities(pinned) == ["Toronto"])
        #expect(pinned["shards"] == .array([.string("north_america")]))

        let tokyoReports = try reader.request(#"{"op":"load","key":["WeatherLocation",[1],"asia"],"relationship":"reports"}"#)
        guard case .array(let loaded)? = tokyoReports["objects"] else { Issue.record("\(tokyoReports)"); return }
        #expect(loaded.map { $0["key"] } == [Self.key("Report", 1, "asia")])
        #expect(loaded.first?["values"]?["temperature"] == .double(80))
        #expect(daemon.stop() == 0)
    }

    @Test(arguments: Layout.allCases)
    func concurrentSessionsNeverShareASequenceId(layout: Layout) async throws {
        let daemon = try await Self.daemon(layout)
        let socketPath = daemon.socketPath
        let perSession = try await onThreads(32) { session -> [Int64] in
                    let client = try LineClient(socketPath: socketPath)
                    var ids: [Int64] = []
                    let continents = ["Asia", "Europe", "North America", "South America"]
                    for round in 0..<5 {
                        let rows = (0..<4).map { #"{"continent":"\#(continents[($0 + session) % 4])","city":"c\#(session)-\#(round)-\#($0)"}"# }
                        let answer = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[\#(rows.joined(separator: ","))]}"#)
                        guard case .array(let objects)? = answer["objects"] else { throw TestSetupError("\(answer)") }
                        for object in objects { if case .int(let id)? = object["values"]?["id"] { ids.append(id) } }
                        _ = try client.request(#"{"op":"commit"}"#)
                    }
                    return ids
        }
        let ids = perSession.flatMap { $0 }
        #expect(ids.count == 32 * 5 * 4)
        #expect(Set(ids).count == ids.count)
        let count = try daemon.client().request(#"{"op":"count","model":"WeatherLocation"}"#)
        #expect(count["count"] == .int(Int64(ids.count)))
        #expect(daemon.stop() == 0)
    }
}
