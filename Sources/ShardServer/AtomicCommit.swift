import Logging
import ShardCore
import ShardProtocol
import ShardStore

/// The atomic commit of protocol.md 6.1 over connections that each hold an open
/// transaction (a session's `commit`). Every lease is released at the end.
enum AtomicCommit {
    /// One shard: its lease, and what finishes it once the decision is durable.
    struct Part: Sendable {
        let shard: Shard
        let lease: ConnectionLease
        var finish: CommitDecision.Finish?
        var name: String { shard.name }

        init(shard: Shard, lease: ConnectionLease) {
            self.shard = shard
            self.lease = lease
        }
    }

    /// Nothing committed: every shard's part was rolled back (or left to recovery, which
    /// knows there was no decision).
    struct Failure: Error {
        var failed: [String]
        var reasons: [String]
        var txid: TransactionID
    }

    /// Committed: `pending` are the shards recovery still has to finish.
    struct Outcome {
        var txid: TransactionID
        var pending: [String]
    }

    /// `two_phase`: every shard ready (marker, then `PREPARE TRANSACTION` or the changeset
    /// taken), the decision durable, then every shard commits; one that cannot is finished
    /// by recovery (`pending`).
    static func run(_ parts: [Part], label: String?, commits: CommitCoordinator, logger: Logger) async throws(Failure) -> Outcome {
        let txid = commits.newTransaction()
        let now = ServerContext.now()
        var parts = parts

        // 1. Ready.
        let readied = await withTaskGroup(of: (Int, Result<CommitDecision.Finish, Error>).self) { group in
            for (index, part) in parts.enumerated() {
                let dialect = part.shard.dialect
                let marker = dialect.insertMarker(txid)
                let labelRow = index == 0 ? label.map { dialect.insertLabel($0, txid: txid, at: now) } : nil
                let gid = txid.gid(for: part.name)
                group.addTask {
                    do {
                        return (index, .success(try await part.lease.run { connection -> CommitDecision.Finish in
                            if dialect.preparesTransactions && labelRow == nil {
                                try connection.execute(SQLDialect.insertMarkerAndPrepare(txid, gid: gid))
                                return .commitPrepared(gid: gid)
                            }
                            _ = try connection.uncounted.run(marker)
                            if let labelRow { _ = try connection.uncounted.run(labelRow) }
                            if dialect.preparesTransactions {
                                try connection.execute(SQLDialect.prepareTransaction(gid))
                                return .commitPrepared(gid: gid)
                            }
                            return .applyChangeset(try connection.changeset())
                        }))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var out = [Result<CommitDecision.Finish, Error>?](repeating: nil, count: parts.count)
            for await (index, result) in group { out[index] = result }
            return out.map { $0! }
        }
        var reasons: [String] = []
        for (index, result) in readied.enumerated() {
            switch result {
            case .success(let finish): parts[index].finish = finish
            case .failure(let error): reasons.append("\(parts[index].name): \(error)")
            }
        }
        guard reasons.isEmpty else {
            await rollBack(parts, txid: txid, commits: commits)
            let failed = zip(parts, readied).compactMap { part, result -> String? in
                if case .failure = result { return part.name }
                return nil
            }
            throw Failure(failed: failed, reasons: reasons, txid: txid)
        }
        await FaultPoint.reach(FaultPoint.commitAfterPrepare)

        // 2. The decision.
        let decision = CommitDecision(txid: txid, label: label, decidedAt: now,
                                      participants: parts.map { .init(shard: $0.name, finish: $0.finish!) })
        do {
            try await commits.decide(decision)
        } catch {
            await rollBack(parts, txid: txid, commits: commits)
            logger.error("cannot write the decision of transaction \(txid) (rolled back on every shard): \(error)")
            throw Failure(failed: parts.map(\.name), reasons: ["the decision could not be made durable: \(error)"], txid: txid)
        }
        await FaultPoint.reach(FaultPoint.commitAfterDecision)

        // 3. Every shard commits. (With the fault point armed, the first one alone first.)
        var done: [String] = []
        var rest = parts[...]
        if FaultPoint.isArmed(FaultPoint.commitAfterFirstShard), let first = rest.popFirst() {
            if await Self.finish(first) { done.append(first.name) }
            await FaultPoint.reach(FaultPoint.commitAfterFirstShard)
        }
        let finished = await withTaskGroup(of: String?.self) { group in
            for part in rest { group.addTask { await AtomicCommit.finish(part) ? part.name : nil } }
            var names: [String] = []
            for await name in group { if let name { names.append(name) } }
            return names
        }
        done += finished
        for part in parts { await part.lease.release() }
        commits.committed(txid, on: done)
        let pending = parts.map(\.name).filter { !done.contains($0) }
        if !pending.isEmpty {
            logger.warning("transaction \(txid) is decided and waits for \(pending.joined(separator: ", ")): recovery finishes it when they answer")
        }
        return Outcome(txid: txid, pending: pending)
    }

    /// Commits one shard's part after the decision: SQLite's open transaction, or
    /// PostgreSQL's prepared one (on the same connection, out of its transaction now).
    private static func finish(_ part: Part) async -> Bool {
        do {
            switch part.finish {
            case .commitPrepared(let gid)?:
                try await part.lease.run { try $0.execute(SQLDialect.commitPrepared(gid)) }
            default:
                // Durable by the decision now; by `syncLog` before it is marked completed.
                try await part.lease.run { try $0.commitDeferringDurability() }
            }
            return true
        } catch {
            return false
        }
    }

    /// Undoes every shard's part of an undecided commit. A prepared transaction that cannot
    /// be rolled back now (its shard is down) is left to recovery, which knows it was never
    /// decided.
    private static func rollBack(_ parts: [Part], txid: TransactionID, commits: CommitCoordinator) async {
        let stuck = await withTaskGroup(of: (shard: String, gid: String)?.self) { group in
            for part in parts {
                group.addTask {
                    if case .commitPrepared(let gid)? = part.finish {
                        do {
                            try await part.lease.run { try $0.execute(SQLDialect.rollbackPrepared(gid)) }
                        } catch {
                            return (part.name, gid)
                        }
                    } else {
                        _ = try? await part.lease.run { connection in if connection.isInTransaction { try connection.rollback() } }
                    }
                    return nil
                }
            }
            var out: [(shard: String, gid: String)] = []
            for await item in group { if let item { out.append(item) } }
            return out
        }
        for part in parts { await part.lease.release() }
        commits.giveUp(txid, prepared: stuck)
    }

}
