import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing
@testable import ShardStore

@Suite struct ShardSetTests {
    let directory = TemporaryDirectory()

    func configuration(extraShards: [ShardSpec] = []) throws -> Configuration {
        let text = DefaultConfiguration.text
        var configuration = try ConfigLoader.parse(text, file: "shards.conf", baseDirectory: directory.path, environment: [:])
        configuration.shards += extraShards
        return configuration
    }

    @Test func prepareCreatesBothTablesOnEveryShard() async throws {
        let shards = ShardSet(configuration: try configuration())
        defer { shards.close() }
        let started = await shards.start(); let (statuses, sequenceError) = (started.statuses, started.sequenceError)
        #expect(sequenceError == nil)
        #expect(statuses.map(\.shard.name) == ["north_america", "asia", "europe", "south_america"])
        #expect(statuses.allSatisfy { $0.error == nil })
        for shard in shards.shards {
            let tables = try await shard.withConnection {
                try $0.run(Statement("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'weather%' ORDER BY name")).rows
            }
            #expect(tables == [[.text("weather_locations")], [.text("weather_reports")]])
        }
    }

    @Test func sequencesStartAboveIdsAlreadyOnTheShards() async throws {
        let configuration = try configuration()
        do {
            let shards = ShardSet(configuration: configuration)
            _ = await shards.start()
            _ = try await shards.shard(named: "europe")!.withConnection {
                try $0.run(Statement("INSERT INTO weather_locations (id, continent, city) VALUES (1000, 'Europe', 'Oslo')"))
            }
            shards.close()
        }
        // As if state_dir had been lost: the counter must still not hand out 1000 again.
        let shards = ShardSet(configuration: configuration)
        defer { shards.close() }
        let sequenceError = await shards.start().sequenceError
        #expect(sequenceError == nil)
        let next = try await shards.sequences["WeatherLocation"]!.next()
        #expect(next.lowerBound > 1000)
        #expect(shards.sequences["Report"] == nil)
    }

    @Test func aDownShardIsReportedAndTheOthersArePrepared() async throws {
        let base = try TestPostgres.baseURL()
        let wrong = base.replacingOccurrences(of: "shardd:shardd@", with: "shardd:wrong-password@")
        let shards = ShardSet(configuration: try configuration(extraShards: [
            ShardSpec(name: "africa", location: .postgres(uri: wrong), poolSize: 1)
        ]))
        defer { shards.close() }
        let statuses = await shards.start().statuses
        #expect(statuses.count == 5)
        #expect(statuses.prefix(4).allSatisfy { $0.error == nil })
        let down = try #require(statuses.last?.error)
        #expect(down.code == .shardUnavailable)
        #expect(down.shard == "africa")
        #expect(down.message.contains("password authentication failed"))
        #expect(!down.message.contains("wrong-password"))
    }
}
