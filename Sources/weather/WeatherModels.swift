import Foundation
import ShardClient

/// A city on a continent: `[models.WeatherLocation]` of shards.conf, placed on the shard of
/// its continent.
struct WeatherLocation: ShardModel, Equatable {
    static let modelName = "WeatherLocation"
    /// Made by the daemon (`id = "sequence"`, unique across shards): nil when adding.
    var id: Int64?
    var continent: String
    var city: String
}

/// A temperature reading of a location: `[models.Report]`, stored on its location's shard.
struct Report: ShardModel, Equatable {
    static let modelName = "Report"
    /// Made by the daemon per shard (`id = "shard_local"`): two shards both have a report 1.
    var id: Int64?
    var locationID: Int64
    var temperature: Double?
    var reportTime: Date?

    enum CodingKeys: String, CodingKey {
        case id, temperature
        case locationID = "location_id"
        case reportTime = "report_time"
    }
}

/// The continents of the weather example, in the order of the default shards.conf, with the
/// shard its `shard_by` map sends each to.
enum Continent {
    static let all: [(name: String, shard: String)] = [
        ("North America", "north_america"), ("Asia", "asia"), ("Europe", "europe"), ("South America", "south_america"),
    ]
}
