import ShardCore
import ShardProtocol
import ShardStore

/// `commit` (protocol.md 6.1). A transaction that changed rows on one shard commits there
/// alone, as any single database would; one that changed rows on several commits them
/// atomically (`two_phase`, the default) or in turn (`best_effort`). Shards it only read
/// are released without taking part.
extension Session {
    /// One shard of a commit: its lease, and what finishes it once the decision is durable.
    private struct Part: Sendable {
        let shard: Shard
        let lease: ConnectionLease
        var finish: CommitDecision.Finish?
        var name: String { shard.name }
    }

    func commit(label: String?) async throws -> JSONObject {
        guard let transaction else {
            if let label { context.commits.labelFinished(label, committed: true) }
            return JSONObject([("shards", .array([]))])
        }
        self.transaction = nil
        let touched = transaction.shardNames(in: context.shardOrder)
        let leases = context.shardOrder.inFileOrder(touched).compactMap { name in transaction.leases.first { $0.shard.name == name } }
        if let label { context.commits.labelStarted(label) }
        var outcome = false
        defer { if let label { context.commits.labelFinished(label, committed: outcome) } }

        // Shards whose part changed nothing take no part.
        let changed: [Bool]
        if leases.count == 1 {
            changed = [true]
        } else {
            changed = await withTaskGroup(of: (Int, Bool).self) { group in
                for (index, item) in leases.enumerated() {
                    group.addTask { (index, (try? await item.lease.run { $0.hasChanges }) ?? true) }
                }
                var out = [Bool](repeating: true, count: leases.count)
                for await (index, value) in group { out[index] = value }
                return out
            }
        }
        var parts: [Part] = []
        for (item, changed) in zip(leases, changed) {
            if changed {
                parts.append(Part(shard: item.shard, lease: item.lease))
            } else {
                await item.lease.release()
            }
        }
        let answer: JSONObject
        switch (parts.count, configuration.server.commit) {
        case (0, _):
            answer = JSONObject([("shards", .array(touched.map(JSONValue.string)))])
        case (1, _):
            answer = try await commitAlone(parts[0], label: label, touched: touched)
        case (_, .bestEffort):
            answer = try await commitInTurn(parts, label: label, touched: touched)
        case (_, .twoPhase):
            answer = try await commitAtomically(parts, label: label, touched: touched)
        }
        outcome = true
        return answer
    }

    /// One shard: its own commit is the decision; a label goes in with it.
    private func commitAlone(_ part: Part, label: String?, touched: [String]) async throws -> JSONObject {
        let dialect = part.shard.dialect
        let labelRow = label.map { dialect.insertLabel($0, txid: context.commits.singleShardID(), at: ServerContext.now()) }
        do {
            try await part.lease.run { connection in
                if let labelRow { _ = try connection.uncounted.run(labelRow) }
                try connection.commit()
            }
        } catch {
            await part.lease.release()
            forgetRows(on: [part.name])
            throw failure(committed: [], failed: [part.name], reasons: ["\(part.name): \(error)"], txid: nil)
        }
        await part.lease.release()
        return JSONObject([("shards", .array(touched.map(JSONValue.string)))])
    }

    /// `best_effort`: every shard commits at once; a failure is reported with what committed.
    private func commitInTurn(_ parts: [Part], label: String?, touched: [String]) async throws -> JSONObject {
        let txid = context.commits.singleShardID()
        let now = ServerContext.now()
        let outcomes = await withTaskGroup(of: (Int, Error?).self) { group in
            for (index, part) in parts.enumerated() {
                // The label goes with the first shard (file order).
                let labelRow = index == 0 ? label.map { part.shard.dialect.insertLabel($0, txid: txid, at: now) } : nil
                group.addTask {
                    do {
                        try await part.lease.run { connection in
                            if let labelRow { _ = try connection.uncounted.run(labelRow) }
                            try connection.commit()
                        }
                        return (index, nil)
                    } catch {
                        return (index, error)
                    }
                }
            }
            var outcomes = [Error?](repeating: nil, count: parts.count)
            for await (index, error) in group { outcomes[index] = error }
            return outcomes
        }
        for part in parts { await part.lease.release() }
        let committed = zip(parts, outcomes).filter { $1 == nil }.map(\.0.name)
        let failed = zip(parts, outcomes).filter { $1 != nil }.map(\.0.name)
        guard failed.isEmpty else {
            forgetRows(on: failed)
            let reasons = zip(parts, outcomes).compactMap { part, error in error.map { "\(part.name): \($0)" } }
            throw failure(committed: committed, failed: failed, reasons: reasons, txid: txid)
        }
        return JSONObject([("shards", .array(touched.map(JSONValue.string))), ("txid", .string(txid.description))])
    }

    /// `two_phase`: every shard ready (marker, then `PREPARE TRANSACTION` or the changeset
    /// taken), the decision durable, then every shard commits; one that cannot is finished
    /// by recovery (`pending`).
    private func commitAtomically(_ parts: [Part], label: String?, touched: [String]) async throws -> JSONObject {
        let commits = context.commits
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
            await rollBack(parts, txid: txid)
            let failed = zip(parts, readied).compactMap { part, result -> String? in
                if case .failure = result { return part.name }
                return nil
            }
            throw failure(committed: [], failed: failed, reasons: reasons, txid: txid)
        }
        await FaultPoint.reach(FaultPoint.commitAfterPrepare)

        // 2. The decision.
        let decision = CommitDecision(txid: txid, label: label, decidedAt: now,
                                      participants: parts.map { .init(shard: $0.name, finish: $0.finish!) })
        do {
            try await commits.decide(decision)
        } catch {
            await rollBack(parts, txid: txid)
            context.logger.error("cannot write the decision of transaction \(txid) (rolled back on every shard): \(error)")
            throw failure(committed: [], failed: parts.map(\.name), reasons: ["the decision could not be made durable: \(error)"], txid: txid)
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
            for part in rest { group.addTask { await Session.finish(part) ? part.name : nil } }
            var names: [String] = []
            for await name in group { if let name { names.append(name) } }
            return names
        }
        done += finished
        for part in parts { await part.lease.release() }
        commits.committed(txid, on: done)
        let pending = parts.map(\.name).filter { !done.contains($0) }
        var answer = JSONObject([("shards", .array(touched.filter { !pending.contains($0) }.map(JSONValue.string))),
                                 ("txid", .string(txid.description))])
        if !pending.isEmpty {
            answer.append("pending", .array(pending.map(JSONValue.string)))
            context.logger.warning("transaction \(txid) is decided and waits for \(pending.joined(separator: ", ")): recovery finishes it when they answer")
        }
        return answer
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
    private func rollBack(_ parts: [Part], txid: TransactionID) async {
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
        context.commits.giveUp(txid, prepared: stuck)
        forgetRows(on: parts.map(\.name))
    }

    /// A failed commit's rows are gone from these shards: the identity map must not show them.
    private func forgetRows(on shards: [String]) {
        for key in identityMap.keys() where shards.contains(key.token) { identityMap.remove(key) }
    }

    /// `transaction_failed` (protocol.md 6.1): `rolled_back` when nothing committed, else `partial`.
    private func failure(committed: [String], failed: [String], reasons: [String], txid: TransactionID?) -> ShardError {
        let committed = context.shardOrder.inFileOrder(committed), failed = context.shardOrder.inFileOrder(failed)
        var details: [(key: String, value: JSONValue)] = [
            ("outcome", .string(committed.isEmpty ? "rolled_back" : "partial")),
            ("committed", .array(committed.map(JSONValue.string))), ("failed", .array(failed.map(JSONValue.string))),
        ]
        if let txid { details.append(("txid", .string(txid.description))) }
        let message = "commit failed on \(failed.joined(separator: ", ")) after \(committed.isEmpty ? "no shard" : committed.joined(separator: ", ")) committed (\(reasons.joined(separator: "; ")))"
        return ShardError(.transactionFailed, message, details: details)
    }
}
