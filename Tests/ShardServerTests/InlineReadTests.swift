import Logging
import NIOCore
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing
@testable import ShardServer

/// Reads that run on the session's thread within the inline budget, and the same reads
/// when every one of them hops to the connections' queues (a budget of zero), give the
/// same answers from the same statements.
@Suite struct InlineReadTests {
    let directory = TemporaryDirectory()

    func session(budget: Duration, shards: ShardSet, configuration: Configuration) throws -> Session {
        Session(context: try ServerContext(configuration: configuration, shards: shards, logger: Logger(label: "test"), inlineReadBudget: budget))
    }

    func request(_ session: Session, _ line: String) async throws -> JSONValue {
        var out: [UInt8] = []
        _ = await session.handle(.line(ByteBuffer(string: line)), into: &out)
        return try JSONValue.parse(out.dropLast())
    }

    @Test func readsGiveTheSameAnswersInlineAndOnTheQueues() async throws {
        let configuration = try ConfigLoader.parse(DefaultConfiguration.text, file: "shards.conf", baseDirectory: directory.path, environment: [:])
        let shards = ShardSet(configuration: configuration)
        defer { shards.close() }
        let started = await shards.start(); let (statuses, sequenceError) = (started.statuses, started.sequenceError)
        #expect(statuses.allSatisfy { $0.error == nil } && sequenceError == nil)

        let writer = try session(budget: .zero, shards: shards, configuration: configuration)
        let cities = [("Asia", "Tokyo"), ("Europe", "London"), ("North America", "Toronto"), ("South America", "Lima"), ("Asia", "Seoul"), ("Europe", "Oslo")]
        let locations = cities.map { #"{"continent":"\#($0.0)","city":"\#($0.1)"}"# }.joined(separator: ",")
        _ = try await request(writer, #"{"op":"add","model":"WeatherLocation","rows":[\#(locations)]}"#)
        let reports = (0..<60).map { #"{"location_id":\#($0 % 6 + 1),"temperature":\#(Double(($0 * 37) % 41) - 10.5)}"# }.joined(separator: ",")
        _ = try await request(writer, #"{"op":"add","model":"Report","rows":[\#(reports)]}"#)
        _ = try await request(writer, #"{"op":"commit"}"#)

        let requests = [
            #"{"op":"query","model":"Report","order_by":["-temperature","id"],"limit":7,"offset":3}"#,
            #"{"op":"query","model":"Report","where":[">","temperature",0],"order_by":["temperature"],"include":["location"]}"#,
            #"{"op":"query","model":"WeatherLocation","where":{"continent":"Europe"},"include":["reports"]}"#,
            #"{"op":"count","model":"Report","where":["<","temperature",5]}"#,
            #"{"op":"aggregate","model":"Report","select":[["avg","temperature"],["count","*"]],"group_by":["location_id"],"order_by":["location_id"]}"#,
            #"{"op":"get","model":"WeatherLocation","pk":3}"#,
            #"{"op":"get","model":"WeatherLocation","pk":2,"shard":"europe","include":["reports"]}"#,
        ]
        func answers(_ budget: Duration) async throws -> (answers: [JSONValue], statements: [Int]) {
            let session = try session(budget: budget, shards: shards, configuration: configuration)
            let before = shards.shards.map(\.statements.value)
            var out: [JSONValue] = []
            for line in requests { out.append(try await request(session, line)) }
            return (out, zip(shards.shards.map(\.statements.value), before).map { $0 - $1 })
        }
        let inline = try await answers(.seconds(5))
        let hopped = try await answers(.zero)
        for (line, (a, b)) in zip(requests, zip(inline.answers, hopped.answers)) {
            #expect(a["ok"] == .bool(true), "\(line): \(a)")
            #expect(a == b, "\(line)")
        }
        #expect(inline.statements == hopped.statements)
        #expect(shards.shards.allSatisfy { $0.statements.errors == 0 })
    }

    /// Issue 19: a top-10 over unindexed temperatures scans and sorts each shard, far past the
    /// inline budget. The first request measures each shard's statement on the queues; after
    /// that each is sent to its queue before it starts. No read is ever started inline and
    /// thrown away (before, every request interrupted its first shard and read it again).
    @Test func readsThatOutrunTheBudgetAreNeverStartedTwice() async throws {
        let configuration = try ConfigLoader.parse(DefaultConfiguration.text, file: "shards.conf", baseDirectory: directory.path, environment: [:])
        let shards = ShardSet(configuration: configuration)
        defer { shards.close() }
        _ = await shards.start()
        for (index, shard) in shards.shards.enumerated() {
            try await shard.withConnection { connection in
                try connection.execute("INSERT INTO weather_locations (id, continent, city) VALUES (\(index + 1), 'Asia', 'City')")
                try connection.execute("""
                    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
                    INSERT INTO weather_reports (id, location_id, temperature) SELECT x, \(index + 1), (x * 7919) % 10007 / 100.0 FROM c
                    """)
            }
        }
        let session = try session(budget: .microseconds(500), shards: shards, configuration: configuration)
        let before = shards.shards.map(\.statements.value)
        for _ in 0..<5 {
            let answer = try await request(session, #"{"op":"query","model":"Report","order_by":["-temperature","id"],"limit":10}"#)
            #expect(answer["ok"] == .bool(true))
            #expect(answer["objects"]?.arrayValue?.count == 10)
        }
        #expect(shards.shards.map(\.readsRedoneCount) == [0, 0, 0, 0])
        #expect(zip(shards.shards.map(\.statements.value), before).map { $0 - $1 } == [5, 5, 5, 5])
    }
}
