import Foundation
import ShardClient

/// The weather example's models as client types (config.md).
struct WeatherLocation: ShardModel, Equatable {
    static let modelName = "WeatherLocation"
    var id: Int64?
    var continent: String
    var city: String
}

struct Report: ShardModel, Equatable {
    static let modelName = "Report"
    var id: Int64?
    var locationID: Int64
    var temperature: Double?
    var reportTime: Date?

    enum CodingKeys: String, CodingKey {
        case id
        case locationID = "location_id"
        case temperature
        case reportTime = "report_time"
    }
}

/// SQLAlchemy's cities, as in the horizontal sharding example.
let cities: [WeatherLocation] = [
    WeatherLocation(continent: "North America", city: "New York"),
    WeatherLocation(continent: "North America", city: "Toronto"),
    WeatherLocation(continent: "Asia", city: "Tokyo"),
    WeatherLocation(continent: "Asia", city: "Osaka"),
    WeatherLocation(continent: "Europe", city: "London"),
    WeatherLocation(continent: "Europe", city: "Dublin"),
    WeatherLocation(continent: "South America", city: "Brasilia"),
    WeatherLocation(continent: "South America", city: "Quito"),
]

/// `2026-11-21T09:30:00.123456Z`: a whole number of microseconds.
let reportTime = Date(timeIntervalSince1970: 1_795_253_400.123456)

/// Adds the cities and one or two reports for each of the first three, and commits.
@discardableResult
func seed(_ session: ShardSession) async throws -> (locations: [Stored<WeatherLocation>], reports: [Stored<Report>]) {
    let locations = try await session.add(contentsOf: cities)
    let reports = try await session.add(contentsOf: [
        Report(locationID: locations[0].id!, temperature: 75, reportTime: nil),
        Report(locationID: locations[2].id!, temperature: 80, reportTime: reportTime),
        Report(locationID: locations[2].id!, temperature: 82.5, reportTime: nil),
        Report(locationID: locations[4].id!, temperature: nil, reportTime: reportTime),
    ])
    try await session.commit()
    return (locations, reports)
}
