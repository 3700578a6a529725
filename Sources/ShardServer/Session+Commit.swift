import ShardCore
import ShardProtocol
import ShardStore

/// `commit` (protocol.md 6.1). A transaction that changed rows on one shard commits there
/// alone, as any single database would; one that changed rows on several commits them
/// atomically (`two_phase`, the default) or in turn (`best_effort`). Shards it only read
/// are released without taking part.
extension Session {
    /// One shard of a commit: its lease.
    private struct Part: Sendable {
        let shard: Shard
        let lease: ConnectionLease
        var name: String { shard.name }
    }

    func commit(label: String?) async throws -> JSONObject {
        guard let transaction else {
            if let label { context.commits.labelFinished(label, committed: true) }
            return JSONObject([("shards", .array([]))])
        }
        self.transaction = nil
        let touched = transaction.shardNames(in: context.shardOrder)
        // The feed's places in each shard's commit order, taken while the transaction still
        // holds its locks: a transaction that waited for them commits after, and is told after.
        let feedOrder = context.feed.order(transaction.changes)
        var told = FeedOutcome()
        defer { context.feed.resolve(feedOrder, committed: told.shards, txid: told.txid) }
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
        let kind = parts.count == 1 ? "single" : configuration.server.commit.rawValue
        do {
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
        } catch let error as ShardError {
            if case .string(let failed)? = error.details["outcome"] { countCommit(kind, failed) }
            // A best-effort commit that failed part way: the shards that committed are told.
            if error.details["outcome"]?.stringValue == "partial", let committed = error.details["committed"]?.arrayValue {
                told = FeedOutcome(shards: Set(committed.compactMap(\.stringValue)), txid: error.details["txid"]?.stringValue)
            }
            throw error
        }
        if !parts.isEmpty { countCommit(kind, "committed") }
        // After the commit (after the commit record, across shards): never for work undone.
        told = FeedOutcome(shards: Set(touched), txid: answer["txid"]?.stringValue)
        outcome = true
        return answer
    }

    /// What a commit tells the change feed: the shards whose changes committed.
    private struct FeedOutcome {
        var shards: Set<String> = []
        var txid: String?
    }

    /// `shardd_commits_total` (protocol.md 15).
    private func countCommit(_ kind: String, _ outcome: String) {
        context.metrics.count("shardd_commits_total", [("kind", kind), ("outcome", outcome)])
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

    /// `two_phase` (`AtomicCommit`); a commit that did not happen forgets the rows it wrote.
    private func commitAtomically(_ parts: [Part], label: String?, touched: [String]) async throws -> JSONObject {
        let outcome: AtomicCommit.Outcome
        do {
            outcome = try await AtomicCommit.run(parts.map { AtomicCommit.Part(shard: $0.shard, lease: $0.lease) }, label: label,
                                                 commits: context.commits, logger: context.logger)
        } catch {
            forgetRows(on: parts.map(\.name))
            throw failure(committed: [], failed: error.failed, reasons: error.reasons, txid: error.txid)
        }
        var answer = JSONObject([("shards", .array(touched.filter { !outcome.pending.contains($0) }.map(JSONValue.string))),
                                 ("txid", .string(outcome.txid.description))])
        if !outcome.pending.isEmpty { answer.append("pending", .array(outcome.pending.map(JSONValue.string))) }
        return answer
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
