import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

@Suite struct IncludeOpTests {
    @Test(arguments: WeatherScenarioTests.Layout.allCases)
    func includedRelationshipsComeFromTheParentsOwnShard(layout: WeatherScenarioTests.Layout) async throws {
        let daemon = try await WeatherScenarioTests.daemon(layout)
        let client = try daemon.client()
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Europe","city":"London"}]}"#)
        _ = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80},{"location_id":2,"temperature":60}]}"#)
        // A report that names Tokyo but was put on europe: not Tokyo's, since related rows
        // live with their parent (and include never looks on other shards).
        _ = try client.request(#"{"op":"add","model":"Report","shard":"europe","values":{"location_id":1,"temperature":-1}}"#)
        _ = try client.request(#"{"op":"commit"}"#)

        let fresh = try daemon.client()
        let answer = try fresh.request(#"{"op":"query","model":"WeatherLocation","order_by":["city"],"include":["reports"]}"#)
        guard case .array(let objects)? = answer["objects"] else { Issue.record("\(answer)"); return }
        #expect(objects.map { $0["values"]?["city"] } == [.string("London"), .string("Tokyo")])
        let temperatures = objects.map { object -> [JSONValue?] in
            guard case .array(let reports)? = object["related"]?["reports"] else { return [] }
            return reports.map { $0["values"]?["temperature"] }
        }
        #expect(temperatures == [[.double(60)], [.double(80)]])
        let tokyoReport = try #require(objects.last?["related"]?["reports"])
        guard case .array(let list) = tokyoReport else { return }
        #expect(list.first?["key"] == .array([.string("Report"), .array([.int(1)]), .string("asia")]))

        // to-one on get; an unknown relationship is named.
        let report = try fresh.request(#"{"op":"get","model":"Report","pk":1,"shard":"asia","include":["location"]}"#)
        #expect(report["object"]?["related"]?["location"]?["values"]?["city"] == .string("Tokyo"))
        let unknown = try fresh.request(#"{"op":"query","model":"Report","include":["station"]}"#)
        #expect(unknown["error"]?["code"] == .string("unknown_relationship"))
        #expect(daemon.stop() == 0)
    }
}
