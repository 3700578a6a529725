import Foundation
import ShardClient

/// One operation of `weather load` with its arguments drawn, ready to send.
///
/// - `get`: `get Report <id> shard=<s> fresh=true`: a report by primary key on a shard that
///   has reports, id drawn from that shard's id range; `fresh`, so that the shard is read
///   every time rather than the session's identity map. An id with no row answers null and
///   counts as done.
/// - `query`: half the time `query WeatherLocation where continent = <c> and id >= <id>
///   order_by id limit 20` (the execute chooser sends it to one shard), else `query Report
///   where location_id = <id> order_by -report_time limit 10 shard=<s>` (the location's shard).
/// - `add`: `add Report {location_id, temperature, report_time: now} shard=<s>` (the
///   location's shard), then `commit`; the latency covers both.
/// - `aggregate`: `aggregate Report select avg(temperature), count(*) where location_id in
///   (5 locations of one shard) group_by location_id shards=[s]`.
/// - `ping`: `ping`, no database: the floor of the others on the same connections.
enum LoadRequest: Sendable {
    case get(shard: String, id: Int64)
    case locationsOfContinent(continent: String, fromID: Int64)
    case latestReports(location: KeySample.Location)
    case add(Report, shard: String)
    case averageTemperature(shard: String, locations: [Int64])
    case ping

    /// Locations per `aggregate`.
    static let locationsPerAggregate = 5

    /// Draws the arguments of `operation` from the sample.
    init(_ operation: LoadOperation, sample: KeySample, using generator: inout some RandomNumberGenerator) {
        switch operation {
        case .get:
            let range = sample.reportRanges.randomElement(using: &generator)!
            self = .get(shard: range.shard, id: Int64.random(in: range.ids, using: &generator))
        case .query:
            let location = sample.locations.randomElement(using: &generator)!
            self = Bool.random(using: &generator)
                ? .locationsOfContinent(continent: location.continent, fromID: location.id)
                : .latestReports(location: location)
        case .add:
            let location = sample.locations.randomElement(using: &generator)!
            let temperature = (Double.random(in: -40...50, using: &generator) * 100).rounded() / 100
            self = .add(Report(locationID: location.id, temperature: temperature, reportTime: Date()), shard: location.shard)
        case .aggregate:
            let (shard, locations) = sample.locationsByShard.randomElement(using: &generator)!
            let ids = (0..<Self.locationsPerAggregate).map { _ in locations.randomElement(using: &generator)!.id }
            self = .averageTemperature(shard: shard, locations: Array(Set(ids)).sorted())
        case .ping:
            self = .ping
        }
    }

    /// Sends the request (two for `add`: the add and the commit) and waits for the answers;
    /// an add's stored report.
    @discardableResult
    func run(on session: ShardSession) async throws -> Stored<Report>? {
        switch self {
        case .get(let shard, let id):
            _ = try await session.get(Report.self, id, shard: shard, fresh: true)
        case .locationsOfContinent(let continent, let fromID):
            _ = try await session.query(WeatherLocation.self)
                .where(Column("continent") == continent && Column("id") >= fromID)
                .orderBy("id")
                .limit(20)
                .all()
        case .latestReports(let location):
            _ = try await session.query(Report.self)
                .where(Column("location_id") == location.id)
                .orderBy("-report_time")
                .limit(10)
                .shard(location.shard)
                .all()
        case .add(let report, let shard):
            let stored = try await session.add(report, shard: shard)
            try await session.commit()
            return stored
        case .averageTemperature(let shard, let locations):
            _ = try await session.aggregate(Report.self, [.avg("temperature"), .count()],
                                            where: Column("location_id").in(locations),
                                            groupBy: ["location_id"], shards: [shard])
        case .ping:
            try await session.ping()
        }
        return nil
    }
}
