import ServiceLifecycle

/// Commit recovery in the background, as a service of the daemon's `ServiceGroup`: it
/// completes finished commits (the `completed` entry, then the markers), finishes decisions
/// whose shards were down, and rolls back prepared transactions given up. It runs when a
/// commit asks for it, and every few seconds while anything is left.
package struct CommitRecovery: Service {
    private let commits: CommitCoordinator
    /// How often it looks again while work is left (a shard that was down may be back).
    static let retryInterval = Duration.seconds(2)

    package init(commits: CommitCoordinator) {
        self.commits = commits
    }

    package func run() async throws {
        let signals = commits.workSignals
        await withTaskGroup(of: Void.self) { group in
            // A tick while work is left, so that a shard coming back is noticed.
            let ticker = AsyncStream<Void>.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            group.addTask {
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: CommitRecovery.retryInterval) }
                    ticker.continuation.yield()
                }
                ticker.continuation.finish()
            }
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() { ticker.continuation.yield() }
                ticker.continuation.finish()
            }
            for await _ in ticker.stream {
                if commits.hasWork { await commits.recover(scanAll: false) }
                await commits.pruneLabels(now: ServerContext.now())
                if Task.isShuttingDownGracefully { break }
            }
            group.cancelAll()
        }
        // The server has stopped its sessions: commits that finished are completed now, so
        // that their markers do not wait for the next start.
        if commits.hasWork { await commits.recover(scanAll: false) }
    }
}
