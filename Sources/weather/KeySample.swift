import ShardClient

/// What `weather load` learns about the data before it starts: the range of report ids on
/// each shard and a sample of locations per shard, so that every operation asks for rows that
/// exist, on the shard they live on.
struct KeySample: Sendable {
    /// The report ids of one shard (`id = "shard_local"`: each shard numbers its own).
    struct ReportRange: Sendable {
        var shard: String
        var ids: ClosedRange<Int64>
    }

    /// A location and the shard it lives on.
    struct Location: Sendable {
        var id: Int64
        var continent: String
        var shard: String
    }

    /// The shards that hold reports, with their id ranges (ids in a range may be missing).
    var reportRanges: [ReportRange]
    /// The locations of the sample, per shard, in shards.conf order (shards without any left out).
    var locationsByShard: [(shard: String, locations: [Location])]
    /// Every location of the sample.
    var locations: [Location]

    /// How many locations of each shard the sample holds (the lowest ids).
    static let locationsPerShard = 1000

    /// Reads the ranges and the sample: per shard, `aggregate` min/max of Report.id and a
    /// `query` of its first locations by id.
    static func learn(from session: ShardSession) async throws -> KeySample {
        var ranges: [ReportRange] = []
        var byShard: [(shard: String, locations: [Location])] = []
        for shard in session.server.shards {
            let bounds = try await session.aggregate(Report.self, [.min("id"), .max("id")], shards: [shard])
            if let row = bounds.rows.first, let low = row["min_id"]?.intValue, let high = row["max_id"]?.intValue {
                ranges.append(ReportRange(shard: shard, ids: low...high))
            }
            let locations = try await session.query(WeatherLocation.self)
                .shard(shard)
                .orderBy("id")
                .limit(locationsPerShard)
                .all()
                .compactMap { stored in stored.id.map { Location(id: $0, continent: stored.continent, shard: stored.key.shard) } }
            if !locations.isEmpty { byShard.append((shard: shard, locations: locations)) }
        }
        return KeySample(reportRanges: ranges, locationsByShard: byShard, locations: byShard.flatMap(\.locations))
    }

    /// Why `operation` cannot run on this data, or nil when it can.
    func shortage(for operation: LoadOperation) -> String? {
        switch operation {
        case .get: return reportRanges.isEmpty ? "no reports to get" : nil
        case .query, .add, .aggregate: return locations.isEmpty ? "no locations to \(operation.rawValue)" : nil
        case .ping: return nil
        }
    }

    /// A sentence on what was found.
    var summary: String {
        let reports = reportRanges.map { "\($0.shard) \($0.ids.lowerBound)..\($0.ids.upperBound)" }.joined(separator: ", ")
        return "report ids \(reports.isEmpty ? "none" : reports); \(locations.count) sampled locations on \(locationsByShard.count) shards"
    }
}
