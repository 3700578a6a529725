import ShardCore
import ShardStore

extension ServerContext {
    /// The exposition of protocol.md 15, with every gauge read now: the shards' health and
    /// pools, the sessions, the configuration's version, the jobs, the process.
    package func metricsText() -> String {
        for shard in shards.shards {
            let labels = [("shard", shard.name)]
            let use = shard.poolUse
            metrics.gauge("shardd_shard_up", labels, shard.health.isDown ? 0 : 1)
            metrics.gauge("shardd_pool_connections", labels + [("state", "idle")], Double(use.open - use.inUse))
            metrics.gauge("shardd_pool_connections", labels + [("state", "in_use")], Double(use.inUse))
            metrics.gauge("shardd_pool_waiting", labels, Double(shard.waiting.borrowers))
            metrics.gauge("shardd_pool_size", labels, Double(shard.poolSize))
            // Counted by the shard on every client statement; exported as the difference
            // since the last scrape, so that the request path pays nothing for it.
            metrics.catchUp("shardd_shard_statements_total", labels, to: shard.statements.value)
            metrics.catchUp("shardd_shard_reads_redone_total", labels, to: shard.readsRedoneCount)
            let batched = shard.readBatchCounts
            metrics.catchUp("shardd_shard_read_batches_total", labels, to: batched.batches)
            metrics.catchUp("shardd_shard_reads_batched_total", labels, to: batched.reads)
        }
        let sessions = self.sessions
        metrics.gauge("shardd_sessions", [], Double(sessions.count))
        metrics.gauge("shardd_transactions_open", [], Double(sessions.filter(\.inTransaction).count))
        metrics.gauge("shardd_identity_map_keys", [], Double(sessions.reduce(0) { $0 + $1.identityMap.count }))
        metrics.gauge("shardd_subscriptions", [], Double(feed.count))
        metrics.gauge("shardd_connections", [], Double(connectionCount))
        metrics.gauge("shardd_config_version", [], Double(configVersion))
        metrics.gauge("shardd_commits_pending", [], Double(commits.transactions().count))
        let jobs = self.jobs.list(nil)
        for state in [MoveJob.State.running, .done, .failed] {
            metrics.gauge("shardd_jobs", [("state", state.rawValue)], Double(jobs.filter { $0.state == state }.count))
        }
        metrics.catchUp("shardd_commit_recoveries_total", [("outcome", "committed")], to: commits.recoveries.committed.load(ordering: .relaxed))
        metrics.catchUp("shardd_commit_recoveries_total", [("outcome", "rolled_back")], to: commits.recoveries.rolledBack.load(ordering: .relaxed))
        metrics.catchUp("shardd_move_rows_copied_total", [], to: jobs.reduce(0) { $0 + $1.rowsCopied } - rowsCopiedAtStart)
        if let bytes = ShardMetrics.residentBytes() { metrics.gauge("process_resident_memory_bytes", [], bytes) }
        if let fds = ShardMetrics.openFileDescriptors() { metrics.gauge("process_open_fds", [], fds) }
        metrics.gauge("process_start_time_seconds", [], metrics.startTime)
        return metrics.exposition()
    }
}
