import Logging
import NIOCore
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing
@testable import ShardServer

/// `include` inside one process, where each shard's statement counter is visible: eager
/// loads are one IN query per shard and relationship, on the parents' shards only.
@Suite struct IncludeTests {
    let directory = TemporaryDirectory()

    func session() async throws -> (Session, ShardSet) {
        let configuration = try ConfigLoader.parse(DefaultConfiguration.text, file: "shards.conf", baseDirectory: directory.path, environment: [:])
        let shards = ShardSet(configuration: configuration)
        let started = await shards.start(); let (statuses, sequenceError) = (started.statuses, started.sequenceError)
        #expect(statuses.allSatisfy { $0.error == nil } && sequenceError == nil)
        return (Session(context: try ServerContext(configuration: configuration, shards: shards, logger: Logger(label: "test"))), shards)
    }

    func request(_ session: Session, _ line: String) async throws -> JSONValue {
        var out: [UInt8] = []
        _ = await session.handle(.line(ByteBuffer(string: line)), into: &out)
        return try JSONValue.parse(out.dropLast())
    }

    @Test func oneInQueryPerShardAndRelationshipNeverOnePerParent() async throws {
        let (session, shards) = try await session()
        defer { shards.close() }
        _ = try await request(session, #"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Asia","city":"Osaka"},{"continent":"Asia","city":"Kyoto"},{"continent":"Europe","city":"London"},{"continent":"Europe","city":"Dublin"}]}"#)
        _ = try await request(session, #"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":1},{"location_id":1,"temperature":2},{"location_id":2,"temperature":3},{"location_id":4,"temperature":4},{"location_id":5,"temperature":5}]}"#)
        _ = try await request(session, #"{"op":"commit"}"#)

        let before = shards.shards.map(\.statements.value)
        let answer = try await request(session, #"{"op":"query","model":"WeatherLocation","order_by":["id"],"include":["reports"]}"#)
        let after = shards.shards.map(\.statements.value)
        // Each shard: the query itself; asia and europe (which hold parents): one IN query more.
        #expect(zip(after, before).map { $0 - $1 } == [1, 2, 2, 1], "statements per shard (north_america, asia, europe, south_america)")

        guard case .array(let objects)? = answer["objects"] else { Issue.record("\(answer)"); return }
        let counts = objects.map { object -> Int in
            guard case .array(let reports)? = object["related"]?["reports"] else { return -1 }
            return reports.count
        }
        #expect(counts == [2, 1, 0, 1, 1])
        // The related objects entered the identity map under their shard.
        let keys = try await request(session, #"{"op":"identity_keys","model":"Report"}"#)
        guard case .array(let list)? = keys["keys"] else { Issue.record("\(keys)"); return }
        #expect(list.count == 5)

        // A to-one include on get, from the map, is one query on the report's shard.
        let before2 = shards.shards.map(\.statements.value)
        let report = try await request(session, #"{"op":"get","model":"Report","pk":1,"shard":"europe","include":["location"]}"#)
        #expect(zip(shards.shards.map(\.statements.value), before2).map { $0 - $1 } == [0, 0, 1, 0])
        #expect(report["object"]?["related"]?["location"]?["values"]?["city"] == .string("London"))
    }
}
