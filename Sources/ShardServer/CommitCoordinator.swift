import Logging
import ShardCore
import ShardProtocol
import ShardStore
import Synchronization

/// The daemon's side of atomic commits (protocol.md 6.1): transaction ids, the durable
/// decisions (through a `CommitStore`), what is still to finish on which shard, the labels
/// clients gave, and recovery, at start and in the background (`CommitRecovery`).
///
/// The order of one cross-shard commit (`Session.commit`): every shard writes its marker and
/// gets ready (PostgreSQL: `PREPARE TRANSACTION`; SQLite: its changeset is taken, its
/// transaction stays open); the decision is appended and fsynced (`decide`); the shards
/// commit; once all have, `completed` is appended and the markers are deleted.
package final class CommitCoordinator: Sendable {
    package let instance: String
    package let epoch: String
    private let store: any CommitStore
    private let shards: ShardSet
    private let logger: Logger
    private let sequence = Atomic<UInt64>(0)
    /// Shard parts finished by recovery since start: committed, or rolled back (never decided).
    package let recoveries = Recoveries()
    private let state: Mutex<State>
    /// Wakes the recovery service when there is work.
    private let work: AsyncStream<Void>.Continuation
    package let workSignals: AsyncStream<Void>

    /// How long `transaction_status` remembers a label (the shards' label rows).
    static let labelLifetime = Duration.seconds(24 * 3600)
    /// How long this run keeps a label's outcome in memory: long enough for a client whose
    /// connection broke during `commit` to ask; from then on the shards' rows answer.
    static let labelMemory = Duration.seconds(60)
    /// How often label rows older than `labelLifetime` are deleted from the shards.
    static let labelPruneInterval = Duration.seconds(3600)

    /// A decision not yet finished on every shard.
    struct Pending {
        var decision: CommitDecision
        /// Shards that have not committed yet.
        var shards: Set<String>
    }

    private struct State {
        /// This run's transactions between their first id and their decision (or giving up):
        /// recovery never touches them.
        var inFlight: Set<TransactionID> = []
        var pending: [TransactionID: Pending] = [:]
        /// Committed everywhere, `completed` not yet durable, markers not yet deleted.
        var toComplete: [CommitDecision] = []
        /// Completed in the log, markers not yet deleted on these shards.
        var uncleaned: [TransactionID: Set<String>] = [:]
        /// Completed and cleaned: to drop from the log at the next compaction.
        var cleaned: Set<TransactionID> = []
        /// Prepared transactions this run gave up and could not roll back yet: (shard, gid).
        var abandoned: Set<Pair> = []
        var lost: [TransactionID: [String]] = [:]
        /// Labels of this run's commits: outcome and when.
        var labels: [String: (committed: Bool, at: ContinuousClock.Instant)] = [:]
        /// Labels of commits still running, with the requests waiting to learn their outcome.
        var labelsInFlight: [String: [CheckedContinuation<Void, Never>]] = [:]
        var labelsPrunedInMemory: ContinuousClock.Instant?
        var labelsPrunedOnShards: ContinuousClock.Instant?
    }

    struct Pair: Hashable {
        var shard: String
        var gid: String
    }

    /// - Parameter store: the log of decisions (its entries are what recovery starts from).
    package init(instance: String, epoch: String, store: any CommitStore, shards: ShardSet, logger: Logger) {
        self.instance = instance
        self.epoch = epoch
        self.store = store
        self.shards = shards
        self.logger = logger
        (workSignals, work) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        var state = State()
        var completed: Set<TransactionID> = []
        for entry in store.entries {
            if case .completed(let txid) = entry { completed.insert(txid) }
        }
        for entry in store.entries {
            guard case .decided(let decision) = entry else { continue }
            if completed.contains(decision.txid) {
                state.uncleaned[decision.txid] = Set(decision.shards)
            } else {
                state.pending[decision.txid] = Pending(decision: decision, shards: Set(decision.shards))
            }
        }
        self.state = Mutex(state)
    }

    /// Opens the commit log of `state_dir` and makes this run's coordinator.
    package static func open(stateDir: String, shards: ShardSet, logger: Logger) throws -> CommitCoordinator {
        let log = try CommitLog(directory: stateDir)
        if log.hadTornTail {
            logger.warning("the last entry of \(log.path) was torn (the daemon died while writing it): read as no decision, and cut off")
        }
        return CommitCoordinator(instance: try StateDirectory.instanceID(stateDir), epoch: StateDirectory.randomHex(bytes: 4),
                                 store: log, shards: shards, logger: logger)
    }

    // MARK: - Commits

    /// A new transaction id, in flight until `decide` or `giveUp`.
    package func newTransaction() -> TransactionID {
        let txid = TransactionID(instance: instance, epoch: epoch, sequence: sequence.add(1, ordering: .relaxed).newValue)
        _ = state.withLock { $0.inFlight.insert(txid) }
        return txid
    }

    /// An id for a commit that needs no decision (one shard, with a label to keep).
    package func singleShardID() -> TransactionID {
        TransactionID(instance: instance, epoch: epoch, sequence: sequence.add(1, ordering: .relaxed).newValue)
    }

    /// Makes the decision durable; from then on the commit completes on every shard.
    package func decide(_ decision: CommitDecision) async throws {
        try await store.append([.decided(decision)], durable: true)
        state.withLock { state in
            state.inFlight.remove(decision.txid)
            state.pending[decision.txid] = Pending(decision: decision, shards: Set(decision.shards))
        }
    }

    /// The transaction will not be decided: `prepared` are its prepared transactions that
    /// could not be rolled back (shard, gid), left for recovery to roll back.
    package func giveUp(_ txid: TransactionID, prepared: [(shard: String, gid: String)]) {
        state.withLock { state in
            state.inFlight.remove(txid)
            for (shard, gid) in prepared { state.abandoned.insert(Pair(shard: shard, gid: gid)) }
        }
        if !prepared.isEmpty { work.yield() }
    }

    /// The shards that committed a decided transaction; when none is left, it completes.
    ///
    /// Completion (an fsynced `completed` entry, then a transaction per shard deleting the
    /// markers) is batched: it waits for the recovery service's next tick, or for
    /// `completionBatch` commits, so that each commit does not queue a log fsync and a
    /// transaction per shard beside the commits that follow it. A shard left to finish wakes
    /// the service at once.
    package func committed(_ txid: TransactionID, on committed: [String]) {
        let wake = state.withLock { state -> Bool in
            guard var pending = state.pending[txid] else { return false }
            pending.shards.subtract(committed)
            if pending.shards.isEmpty {
                state.pending[txid] = nil
                state.toComplete.append(pending.decision)
                return state.toComplete.count >= CommitCoordinator.completionBatch
            }
            state.pending[txid] = pending
            return true
        }
        if wake { work.yield() }
    }

    /// How many finished commits wake the recovery service to complete them before its tick.
    static let completionBatch = 256

    // MARK: - Labels

    /// A commit with `label` is running: `transaction_status` of it waits for its outcome.
    package func labelStarted(_ label: String) {
        state.withLock { state in
            if state.labelsInFlight[label] == nil { state.labelsInFlight[label] = [] }
        }
    }

    /// The outcome of a commit with `label`.
    package func labelFinished(_ label: String, committed: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.labels[label] = (committed, .now)
            return state.labelsInFlight.removeValue(forKey: label) ?? []
        }
        for waiter in waiters { waiter.resume() }
    }

    /// `transaction_status` (protocol.md 6.1): this run's outcome of the label, else a
    /// decision that names it, else the label row of a commit on any shard in the last 24 hours.
    /// - Throws: `shard_unavailable` when a shard that could hold the answer cannot be asked.
    package func status(of label: String, now: Timestamp) async throws -> Bool {
        while true {
            let known = state.withLock { state -> (Bool?, Bool) in
                if state.labelsInFlight[label] != nil { return (nil, true) }
                if let outcome = state.labels[label], ContinuousClock.now - outcome.at < CommitCoordinator.labelMemory {
                    return (outcome.committed, false)
                }
                if state.pending.values.contains(where: { $0.decision.label == label }) { return (true, false) }
                return (nil, false)
            }
            if let committed = known.0 { return committed }
            if !known.1 { break }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let running = state.withLock { state -> Bool in
                    guard state.labelsInFlight[label] != nil else { return false }
                    state.labelsInFlight[label]!.append(waiter)
                    return true
                }
                if !running { waiter.resume() }
            }
        }
        let since = Self.labelsSince(now)
        for shard in shards.shards {
            let statement = shard.dialect.selectLabel(label, since: since)
            let found = try await shard.withConnection { connection in
                try connection.uncounted.run(statement).rows.first?.first
            }
            if case .int(let n)? = found, n > 0 { return true }
        }
        return false
    }

    /// The oldest commit time `transaction_status` still answers for.
    private static func labelsSince(_ now: Timestamp) -> Timestamp {
        Timestamp(microseconds: now.microseconds - labelLifetime.components.seconds * 1_000_000)
    }

    /// Forgets what `transaction_status` no longer needs: outcomes in memory older than
    /// `labelMemory` (every few seconds), and label rows older than 24 hours on every shard
    /// that answers (hourly, and at the first call). Without it both grow with every labelled
    /// commit.
    package func pruneLabels(now: Timestamp, force: Bool = false) async {
        let clock = ContinuousClock.now
        let onShards = state.withLock { state -> Bool in
            if force || state.labelsPrunedInMemory.map({ clock - $0 >= .seconds(10) }) ?? true {
                state.labels = state.labels.filter { clock - $0.value.at < CommitCoordinator.labelMemory }
                state.labelsPrunedInMemory = clock
            }
            return force || state.labelsPrunedOnShards.map { clock - $0 >= CommitCoordinator.labelPruneInterval } ?? true
        }
        guard onShards else { return }
        let before = Self.labelsSince(now)
        var pruned = true
        for shard in shards.shards {
            let statement = shard.dialect.deleteLabels(before: before)
            do {
                let deleted = try await shard.withConnection { try $0.uncounted.run(statement).rowsAffected }
                if deleted > 0 { logger.debug("deleted \(deleted) label(s) older than 24 hours on shard \(shard.name)") }
            } catch {
                pruned = false
                logger.debug("cannot delete old labels on shard \(shard.name) now (tried again later): \(error)")
            }
        }
        // A shard that was down is tried again at the next tick rather than in an hour.
        if pruned { state.withLock { $0.labelsPrunedOnShards = clock } }
    }

    // MARK: - What is pending

    /// `transactions` (protocol.md 9): decided transactions not yet finished everywhere.
    package func transactions() -> [JSONValue] {
        let pending = state.withLock { state in state.pending.values.sorted { $0.decision.txid.sequence < $1.decision.txid.sequence } }
        return pending.map { item in
            .object(JSONObject([
                ("txid", .string(item.decision.txid.description)),
                ("label", item.decision.label.map(JSONValue.string) ?? .null),
                ("state", .string("committing")),
                ("shards", .array(item.decision.shards.map(JSONValue.string))),
                ("pending", .array(shards.configuration.shards.map(\.name).filter(item.shards.contains).map(JSONValue.string))),
                ("since", .string(item.decision.decidedAt.description)),
            ]))
        }
    }

    /// Whether recovery has work: decisions to finish, markers to delete, prepared
    /// transactions to roll back.
    package var hasWork: Bool {
        state.withLock { !$0.pending.isEmpty || !$0.toComplete.isEmpty || !$0.uncleaned.isEmpty || !$0.abandoned.isEmpty }
    }

    // MARK: - Recovery

    /// One pass of recovery: completions of finished commits, then what the shards hold.
    /// - Parameter scanAll: look at every shard for undecided prepared transactions of
    ///   earlier runs (at start); otherwise only the shards with work.
    package func recover(scanAll: Bool) async {
        await complete()
        let (pending, uncleaned, abandoned, inFlight) = state.withLock { state in
            (Array(state.pending.values.map(\.decision)).sorted { $0.decidedAt < $1.decidedAt }, state.uncleaned, state.abandoned, state.inFlight)
        }
        var wanted = Set(pending.flatMap(\.shards)).union(uncleaned.values.flatMap { $0 }).union(abandoned.map(\.shard))
        if scanAll { wanted.formUnion(shards.shards.map(\.name)) }
        guard !wanted.isEmpty else { return }
        var facts: [String: RecoveryPlan.ShardFacts] = [:]
        for shard in shards.shards where wanted.contains(shard.name) {
            if let found = await self.facts(on: shard) { facts[shard.name] = found }
        }
        let plan = RecoveryPlan(decisions: pending, completed: Set(uncleaned.keys), facts: facts, instance: instance, epoch: epoch,
                                inFlight: inFlight, abandoned: Set(abandoned.map(\.gid)))
        var failedTransactions: Set<TransactionID> = []
        var failedCleanups: Set<String> = []
        for action in plan.actions {
            if !(await run(action)) {
                switch action {
                case .commitPrepared(_, _, let txid), .applyChangeset(_, _, let txid): failedTransactions.insert(txid)
                case .deleteMarkers(let shard, _): failedCleanups.insert(shard)
                case .rollbackPrepared: break
                }
            }
        }
        state.withLock { state in
            for lost in plan.lost { state.lost[lost.txid, default: []].append(lost.shard) }
            for (txid, shards) in uncleaned {
                // Every shard that could hold markers of a completed transaction was looked at.
                let cleaned = shards.filter { facts[$0] != nil && !failedCleanups.contains($0) }
                let left = shards.subtracting(cleaned)
                if left.isEmpty {
                    state.uncleaned[txid] = nil
                    state.cleaned.insert(txid)
                } else {
                    state.uncleaned[txid] = left
                }
            }
            for action in plan.actions {
                if case .rollbackPrepared(let shard, let gid) = action { state.abandoned.remove(Pair(shard: shard, gid: gid)) }
            }
            for txid in plan.finished where !failedTransactions.contains(txid) {
                if let pending = state.pending.removeValue(forKey: txid) { state.toComplete.append(pending.decision) }
            }
            for (txid, shards) in plan.waiting where state.pending[txid] != nil {
                state.pending[txid]!.shards = Set(shards)
            }
        }
        for lost in plan.lost {
            logger.error("transaction \(lost.txid) was decided, but shard \(lost.shard) has neither its marker nor its prepared transaction \(lost.gid): something else ended it; it stays pending, check the shard by hand")
        }
        await complete()
        await compactIfDue()
    }

    /// Appends `completed` for commits finished everywhere, then deletes their markers.
    private func complete() async {
        let done = state.withLock { state -> [CommitDecision] in
            defer { state.toComplete = [] }
            return state.toComplete
        }
        guard !done.isEmpty else { return }
        // SQLite shards committed their parts without an fsync (the decision's changeset
        // stood in): durable now, before the decision may be forgotten.
        var unsynced = Set<String>()
        for decision in done {
            for participant in decision.participants {
                if case .applyChangeset = participant.finish { unsynced.insert(participant.shard) }
            }
        }
        for name in unsynced.sorted() {
            guard let shard = shards.shard(named: name) else { continue }
            do {
                try await shard.withConnection { try $0.syncLog() }
            } catch {
                logger.warning("cannot fsync shard \(name)'s log before completing \(done.count) commit(s): \(error); retrying")
                state.withLock { $0.toComplete += done }
                return
            }
        }
        do {
            try await store.append(done.map { .completed($0.txid) }, durable: true)
        } catch {
            logger.error("cannot append to the commit log: \(error); retrying")
            state.withLock { $0.toComplete += done }
            return
        }
        state.withLock { state in
            for decision in done { state.uncleaned[decision.txid] = Set(decision.shards) }
        }
        var byShard: [String: [TransactionID]] = [:]
        for decision in done { for shard in decision.shards { byShard[shard, default: []].append(decision.txid) } }
        for (name, txids) in byShard {
            if await run(.deleteMarkers(shard: name, txids)) {
                state.withLock { state in
                    for txid in txids {
                        state.uncleaned[txid]?.remove(name)
                        if state.uncleaned[txid]?.isEmpty == true {
                            state.uncleaned[txid] = nil
                            state.cleaned.insert(txid)
                        }
                    }
                }
            }
        }
    }

    /// Drops cleaned transactions from the log once there are enough of them.
    private func compactIfDue(force: Bool = false) async {
        let cleaned = state.withLock { $0.cleaned }
        guard !cleaned.isEmpty, force || cleaned.count >= 256 else { return }
        do {
            try await store.compact { entry in
                switch entry {
                case .decided(let decision): !cleaned.contains(decision.txid)
                case .completed(let txid): !cleaned.contains(txid)
                }
            }
            state.withLock { $0.cleaned.subtract(cleaned) }
        } catch {
            logger.error("cannot compact the commit log: \(error)")
        }
    }

    /// Recovery at start: everything the shards that answer allow, before serving.
    package func recoverAtStart() async {
        let before = state.withLock { $0.pending.count }
        await recover(scanAll: true)
        await compactIfDue(force: true)
        await pruneLabels(now: ServerContext.now(), force: true)
        let (left, lost) = state.withLock { ($0.pending.values.map(\.decision.txid), $0.lost) }
        if before > 0 || !left.isEmpty {
            logger.notice("commit recovery: \(before) decided transaction(s) found, \(left.count) still pending (shards down, or lost: \(lost.count))")
        }
    }

    /// The markers and prepared transactions of this `state_dir` on `shard`; nil when it
    /// cannot be asked now.
    private func facts(on shard: Shard) async -> RecoveryPlan.ShardFacts? {
        let prefix = TransactionID.gidPrefix(instance: instance)
        let prepares = shard.dialect.preparesTransactions
        do {
            return try await shard.withConnection { connection in
                let markers = try connection.uncounted.run(shard.dialect.selectMarkers).rows.compactMap { row -> TransactionID? in
                    guard case .text(let text) = row[0] else { return nil }
                    return TransactionID(text)
                }
                var prepared: Set<String> = []
                if prepares {
                    for row in try connection.uncounted.run(SQLDialect.selectPrepared(prefix: prefix)).rows {
                        if case .text(let gid) = row[0], let (_, owner) = TransactionID.parse(gid: gid, instance: self.instance), owner == shard.name {
                            prepared.insert(gid)
                        }
                    }
                }
                return RecoveryPlan.ShardFacts(markers: Set(markers), prepared: prepared)
            }
        } catch {
            logger.debug("commit recovery: shard \(shard.name) cannot be asked now: \(error)")
            return nil
        }
    }

    /// Carries out one action; false when it failed (it is tried again at the next pass).
    private func run(_ action: RecoveryPlan.Action) async -> Bool {
        let name: String
        switch action {
        case .commitPrepared(let shard, _, _), .applyChangeset(let shard, _, _), .rollbackPrepared(let shard, _), .deleteMarkers(let shard, _):
            name = shard
        }
        guard let shard = shards.shard(named: name) else { return false }
        do {
            switch action {
            case .commitPrepared(_, let gid, let txid):
                try await shard.withConnection { try $0.uncounted.execute(SQLDialect.commitPrepared(gid)) }
                logger.warning("commit recovery: finished transaction \(txid) on shard \(name) (COMMIT PREPARED \(gid))")
                recoveries.committed.add(1, ordering: .relaxed)
                committed(txid, on: [name])
            case .applyChangeset(_, let changeset, let txid):
                try await shard.withConnection { try $0.uncounted.apply(changeset: changeset) }
                logger.warning("commit recovery: finished transaction \(txid) on shard \(name) (its changes applied from the decision)")
                recoveries.committed.add(1, ordering: .relaxed)
                committed(txid, on: [name])
            case .rollbackPrepared(_, let gid):
                try await shard.withConnection { try $0.uncounted.execute(SQLDialect.rollbackPrepared(gid)) }
                logger.warning("commit recovery: rolled back \(gid) on shard \(name): it was prepared and never decided")
                recoveries.rolledBack.add(1, ordering: .relaxed)
            case .deleteMarkers(_, let txids):
                let statements = shard.dialect.deleteMarkers(txids)
                try await shard.withConnection { connection in
                    for statement in statements { _ = try connection.uncounted.run(statement) }
                }
            }
            return true
        } catch {
            logger.warning("commit recovery on shard \(name) failed (retried later): \(error)")
            return false
        }
    }
}

/// What commit recovery has done since the daemon started (`shardd_commit_recoveries_total`).
package final class Recoveries: Sendable {
    let committed = Atomic<Int>(0)
    let rolledBack = Atomic<Int>(0)
}
