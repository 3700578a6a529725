import ServiceLifecycle
import ShardStore

/// The daemon's work on its shards between requests, as a service of its `ServiceGroup`:
/// shards that went down are probed with backoff until they answer again (`ShardHealth`),
/// and shards at rest give back their connections' caches, and the allocator its free pages.
package struct ShardMonitor: Service {
    private let shards: [Shard]
    /// How often the shards are looked at.
    static let interval = Duration.milliseconds(250)
    /// How long a shard must go unused before its idle connections free their caches.
    static let restAfter = Duration.seconds(1)

    package init(shards: ShardSet) {
        self.shards = shards.shards
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var released = false
            for shard in shards {
                await shard.probeIfDue()
                if await shard.releaseMemoryIfIdle(for: ShardMonitor.restAfter) { released = true }
            }
            if released { AllocatorTrim.run() }
            // Wakes at once on graceful shutdown (the sleep is cancelled).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: ShardMonitor.interval) }
        }
    }
}
