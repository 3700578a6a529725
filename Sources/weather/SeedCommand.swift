import ArgumentParser
import Foundation
import ShardClient

/// `weather seed`: bulk-loads generated locations and reports.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Bulk-loads generated locations and their reports (add with rows, one commit per batch).",
        discussion: """
            Adds --locations locations named "City N" (numbered on from the locations already \
            there), their continents taking turns over the four of shards.conf (North America, \
            Asia, Europe, South America), then --reports-per-location reports for each: \
            temperatures random in -40..50 with two decimals and report times random over the \
            year 2026, both drawn from --seed, so that the same command writes the same rows.

            Rows go in batches of --batch-size rows, one `add` with `rows` and one `commit` per \
            batch. Reports are sent per shard, each batch naming the shard of its locations, \
            over one more connection per shard, so that the shards' batches are written at once. \
            Progress goes to standard error: a bar with rate and ETA on a terminal, plain lines \
            otherwise; the summary to standard output.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("How many locations to add.", valueName: "n"))
    var locations: Int

    @Option(help: ArgumentHelp("How many reports to add for each location.", valueName: "m"))
    var reportsPerLocation: Int = 10

    @Option(help: ArgumentHelp("Rows per add request, each followed by a commit.", valueName: "rows"))
    var batchSize: Int = 1000

    @Option(help: ArgumentHelp("Seed of the random temperatures and report times.", valueName: "n"))
    var seed: UInt64 = 20_261_121

    static let maximumBatchSize = 5000

    func validate() throws {
        guard locations >= 0 else { throw ValidationError("--locations must be 0 or more") }
        guard reportsPerLocation >= 0 else { throw ValidationError("--reports-per-location must be 0 or more") }
        guard (1...Self.maximumBatchSize).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1 to \(Self.maximumBatchSize) (a request line must fit the daemon's max_line_bytes, 1 MiB by default)")
        }
    }

    func run() async throws {
        let session = try await connection.connect(client: "weather seed")
        defer { session.close() }
        try await Console.reportingErrors("seed") {
            var seeder = Seeder(session: session, batchSize: batchSize, seed: seed) { [connection] shard in
                try await connection.connect(client: "weather seed \(shard)")
            }
            try await seeder.seed(locations: locations, reportsPerLocation: reportsPerLocation)
        }
    }
}

/// Adds generated rows in batches, one commit per batch, and keeps the progress bar.
struct Seeder {
    let session: ShardSession
    let batchSize: Int
    private var generator: SeededGenerator
    private var pending: [String: [Report]] = [:]
    private var progress = ProgressBar(total: 0, unit: "rows")
    private var done = 0
    private var locationsPerShard: [String: Int] = [:]
    private var reportsPerShard: [String: Int] = [:]
    /// Opens the session that writes one shard's reports.
    private let connect: @Sendable (String) async throws -> ShardSession
    private var shardSessions: [String: ShardSession] = [:]
    /// Each shard's batch being written, with its row count: at most one per shard.
    private var writing: [String: (task: Task<Void, Error>, rows: Int)] = [:]

    /// The first instant of the year the report times are spread over (2026-01-01T00:00:00Z).
    static let yearStart = Date(timeIntervalSince1970: 1_767_225_600)
    static let secondsInYear = 365 * 86_400

    init(session: ShardSession, batchSize: Int, seed: UInt64, connect: @escaping @Sendable (String) async throws -> ShardSession) {
        self.session = session
        self.batchSize = batchSize
        self.connect = connect
        generator = SeededGenerator(seed: seed)
    }

    mutating func seed(locations: Int, reportsPerLocation: Int) async throws {
        let first = try await session.query(WeatherLocation.self).count() + 1
        progress = ProgressBar(total: locations + locations * reportsPerLocation, unit: "rows")
        if progress.interactive { progress.update(0) }
        var next = 0
        while next < locations {
            let end = min(next + batchSize, locations)
            let rows = (next..<end).map { index in
                WeatherLocation(continent: Continent.all[(first - 1 + index) % Continent.all.count].name, city: "City \(first + index)")
            }
            let stored = try await session.add(contentsOf: rows)
            try await commit(rows: rows.count)
            for location in stored {
                locationsPerShard[location.key.shard, default: 0] += 1
                for _ in 0..<reportsPerLocation {
                    pending[location.key.shard, default: []].append(randomReport(of: location.id!))
                    if pending[location.key.shard]!.count >= batchSize { try await flush(location.key.shard) }
                }
            }
            next = end
        }
        for shard in session.server.shards where pending[shard]?.isEmpty == false {
            try await flush(shard)
        }
        for shard in session.server.shards { try await finishWriting(shard) }
        for other in shardSessions.values { other.close() }
        progress.finish()

        let seconds = progress.elapsed
        let rows = locations + locations * reportsPerLocation
        print("seeded \(ProgressBar.count(locations)) locations"
            + (locations > 0 ? " (City \(first) to City \(first + locations - 1))" : "")
            + " and \(ProgressBar.count(locations * reportsPerLocation)) reports in \(String(format: "%.2f", seconds)) s"
            + " (\(ProgressBar.count(Int((Double(rows) / max(seconds, 1e-9)).rounded()))) rows/s, \(batchSize) rows per batch)")
        for shard in session.server.shards where locationsPerShard[shard] != nil || reportsPerShard[shard] != nil {
            print("  \(shard): \(ProgressBar.count(locationsPerShard[shard] ?? 0)) locations, \(ProgressBar.count(reportsPerShard[shard] ?? 0)) reports")
        }
    }

    /// Adds the pending reports of `shard` (named in the request: their locations live there)
    /// on the shard's own session, without waiting: the other shards' batches go meanwhile.
    private mutating func flush(_ shard: String) async throws {
        guard let reports = pending.removeValue(forKey: shard), !reports.isEmpty else { return }
        try await finishWriting(shard)
        let writer: ShardSession
        if let known = shardSessions[shard] {
            writer = known
        } else {
            writer = try await connect(shard)
            shardSessions[shard] = writer
        }
        let task = Task {
            try await writer.add(contentsOf: reports, shard: shard)
            try await Seeder.commitBatch(on: writer)
        }
        writing[shard] = (task, reports.count)
        reportsPerShard[shard, default: 0] += reports.count
    }

    /// Waits for the batch being written on `shard`, if any, and counts it.
    private mutating func finishWriting(_ shard: String) async throws {
        guard let (task, rows) = writing.removeValue(forKey: shard) else { return }
        try await task.value
        count(rows)
    }

    /// Commits a batch of the main session's (the locations) and counts it.
    private mutating func commit(rows: Int) async throws {
        try await Seeder.commitBatch(on: session)
        count(rows)
    }

    /// Commits a batch and forgets its objects, so that the daemon's identity map of the
    /// session stays small however many rows are seeded.
    private static func commitBatch(on session: ShardSession) async throws {
        try await session.commit()
        try await session.expungeAll()
    }

    private mutating func count(_ rows: Int) {
        done += rows
        progress.update(done)
    }

    private mutating func randomReport(of location: Int64) -> Report {
        let temperature = (Double.random(in: -40...50, using: &generator) * 100).rounded() / 100
        let offset = Int.random(in: 0..<Self.secondsInYear, using: &generator)
        return Report(locationID: location, temperature: temperature,
                      reportTime: Self.yearStart.addingTimeInterval(TimeInterval(offset)))
    }
}
