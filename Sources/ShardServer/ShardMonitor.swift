import Logging
import ServiceLifecycle
import ShardStore

/// The daemon's work on its shards between requests, as a service of its `ServiceGroup`:
/// shards that went down are probed with backoff until they answer again (`ShardHealth`),
/// and shards at rest give back their connections' caches, and the allocator its free pages.
///
/// A shard that was down at start gets what the start gave the others once it answers
/// (`ShardSet.prepareLate`: the daemon's tables, the models' tables, the id sequences), so that
/// a shard added while it was unreachable does not answer every query with a missing table.
package struct ShardMonitor: Service {
    private let set: ShardSet
    /// Shards the start could not prepare.
    private let late: [Shard]
    private let logger: Logger?
    /// How often the shards are looked at.
    static let interval = Duration.milliseconds(250)
    /// How long a shard must go unused before its idle connections free their caches.
    static let restAfter = Duration.seconds(1)
    /// How often a shard that was down at start is tried.
    static let lateRetry = Duration.seconds(1)
    /// How often it is tried again when it answers and its tables cannot be made.
    static let lateFailureRetry = Duration.seconds(60)

    /// - Parameter late: shards the start could not prepare (down then).
    package init(shards: ShardSet, late: [Shard] = [], logger: Logger? = nil) {
        self.set = shards
        self.late = late
        self.logger = logger
    }

    /// Prepares the late shards whose turn it is; `waiting` holds those still to prepare,
    /// with when to try next.
    private func prepareLateShards(_ waiting: inout [String: ContinuousClock.Instant]) async {
        let due = waiting.filter { ContinuousClock.now >= $0.value }.map(\.key)
        for name in due.sorted() {
            guard let shard = set.shard(named: name) else { continue }
            let createTables = set.configuration.server.createTables
            let logger = self.logger
            do {
                let drift = try await set.prepareLate(shard, applyChanges: createTables) { sql in
                    logger?.notice("shard \(name): \(sql)")
                }
                waiting[name] = nil
                if !drift.refused.isEmpty {
                    logger?.error("shard \(name) answers now, but its tables differ from the models in ways shardd does not change; requests to it may fail until they are fixed:")
                    for difference in drift.refused { logger?.error("\(difference)") }
                } else if !createTables && !drift.additive.isEmpty {
                    logger?.error("shard \(name) answers now, and its tables lack what the models have (create_tables = false): run shardd migrate")
                } else {
                    logger?.notice("shard \(name) answers now: its tables match the models (\(drift.statements.count) statement(s) run)")
                }
            } catch let error as BackendError where error.cause == .unreachable {
                waiting[name] = ContinuousClock.now + ShardMonitor.lateRetry
            } catch {
                // It answers, and its tables cannot be brought up (a change failed, rolled
                // back): said once a minute rather than tried every second in silence.
                logger?.error("shard \(name) answers now, but its tables could not be brought up to the models (tried again in a minute): \(error)")
                waiting[name] = ContinuousClock.now + ShardMonitor.lateFailureRetry
            }
        }
    }

    package func run() async throws {
        var waiting = Dictionary(late.map { ($0.name, ContinuousClock.now) }, uniquingKeysWith: { first, _ in first })
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            for name in set.takeLate() where waiting[name] == nil { waiting[name] = ContinuousClock.now }
            if !waiting.isEmpty { await prepareLateShards(&waiting) }
            var released = false
            // Read each time: a reload adds shards.
            for shard in set.shards {
                await shard.probeIfDue()
                if await shard.releaseMemoryIfIdle(for: ShardMonitor.restAfter) { released = true }
            }
            if released { AllocatorTrim.run() }
            // Wakes at once on graceful shutdown (the sleep is cancelled).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: ShardMonitor.interval) }
        }
    }
}
