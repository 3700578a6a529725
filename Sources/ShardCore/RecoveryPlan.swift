/// What recovery does with what it finds (protocol.md 6.1): the pending decisions of the
/// commit log, and on each reachable shard the markers and prepared transactions of this
/// daemon's `state_dir`. Pure: the coordinator gathers the facts and carries out the actions.
///
/// The rules, each guarding against a bug seen in the systems this design follows:
/// - A shard whose marker of the transaction is there committed it: nothing is applied twice.
/// - A decided transaction without a marker is finished from the decision: `COMMIT PREPARED`
///   of the stored global id (never one rebuilt, PgDog #1175), or the stored changeset.
/// - A PostgreSQL participant with neither a marker nor its prepared transaction is *lost*:
///   someone else resolved it. That is reported and kept, never taken for success (Vitess #16576).
/// - A prepared transaction of this `state_dir` without a decision was never decided: it is
///   rolled back (presumed abort), but only if it cannot be in flight: it belongs to an earlier
///   run of the daemon (another epoch), or this run gave it up (Citus #1030).
/// - Markers of completed transactions are deleted; others are left alone.
package struct RecoveryPlan: Sendable, Equatable {
    /// What one shard holds of this `state_dir`'s transactions.
    package struct ShardFacts: Sendable, Equatable {
        /// Transactions whose marker row is on the shard.
        package var markers: Set<TransactionID>
        /// Global ids of prepared transactions of this `state_dir` on the shard.
        package var prepared: Set<String>

        package init(markers: Set<TransactionID> = [], prepared: Set<String> = []) {
            self.markers = markers
            self.prepared = prepared
        }
    }

    package enum Action: Sendable, Hashable {
        case commitPrepared(shard: String, gid: String, txid: TransactionID)
        case applyChangeset(shard: String, changeset: [UInt8], txid: TransactionID)
        case rollbackPrepared(shard: String, gid: String)
        case deleteMarkers(shard: String, [TransactionID])
    }

    /// A participant that recovery cannot finish.
    package struct Lost: Sendable, Equatable {
        package var txid: TransactionID
        package var shard: String
        package var gid: String
    }

    /// In the order to run them: per shard, finishing before rolling back before cleaning.
    package var actions: [Action] = []
    /// Decisions every shard of which has committed (or will, by the actions): to be marked
    /// completed in the log once the actions succeeded.
    package var finished: [TransactionID] = []
    /// Decisions still waiting for shards that could not be reached, with those shards.
    package var waiting: [(txid: TransactionID, shards: [String])] = []
    package var lost: [Lost] = []

    package static func == (lhs: RecoveryPlan, rhs: RecoveryPlan) -> Bool {
        lhs.actions == rhs.actions && lhs.finished == rhs.finished && lhs.lost == rhs.lost
            && lhs.waiting.map(\.txid) == rhs.waiting.map(\.txid) && lhs.waiting.map(\.shards) == rhs.waiting.map(\.shards)
    }

    package init() {}

    /// - Parameters:
    ///   - decisions: decided and not completed, oldest first.
    ///   - completed: transactions the log says are completed (their markers may remain).
    ///   - facts: one entry per shard that could be reached; a shard missing is unreachable.
    ///   - instance, epoch: this daemon's `state_dir` id and this run's epoch.
    ///   - inFlight: this run's transactions not yet decided or given up: never touched.
    ///   - abandoned: global ids this run prepared and then gave up (to roll back).
    package init(decisions: [CommitDecision], completed: Set<TransactionID>, facts: [String: ShardFacts],
                 instance: String, epoch: String, inFlight: Set<TransactionID>, abandoned: Set<String>) {
        var decided: Set<String> = []
        for decision in decisions {
            var unreachable: [String] = []
            var done = true
            for participant in decision.participants {
                guard let shard = facts[participant.shard] else {
                    unreachable.append(participant.shard)
                    done = false
                    continue
                }
                if case .commitPrepared(let gid) = participant.finish { decided.insert(gid) }
                if shard.markers.contains(decision.txid) { continue }
                switch participant.finish {
                case .commitPrepared(let gid):
                    if shard.prepared.contains(gid) {
                        actions.append(.commitPrepared(shard: participant.shard, gid: gid, txid: decision.txid))
                    } else {
                        lost.append(Lost(txid: decision.txid, shard: participant.shard, gid: gid))
                        done = false
                    }
                case .applyChangeset(let changeset):
                    actions.append(.applyChangeset(shard: participant.shard, changeset: changeset, txid: decision.txid))
                }
            }
            if !unreachable.isEmpty { waiting.append((decision.txid, unreachable)) }
            if done { finished.append(decision.txid) }
        }
        for (name, shard) in facts.sorted(by: { $0.key < $1.key }) {
            for gid in shard.prepared.sorted() where !decided.contains(gid) {
                guard let (txid, _) = TransactionID.parse(gid: gid, instance: instance), !inFlight.contains(txid) else { continue }
                if txid.epoch != epoch || abandoned.contains(gid) {
                    actions.append(.rollbackPrepared(shard: name, gid: gid))
                }
            }
            let clean = shard.markers.filter { completed.contains($0) }.sorted { $0.description < $1.description }
            if !clean.isEmpty { actions.append(.deleteMarkers(shard: name, clean)) }
        }
    }
}
