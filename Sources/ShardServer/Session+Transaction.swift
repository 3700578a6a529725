import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// Joins or opens the session's transaction on each shard a write request touches.
    ///
    /// Shards are taken in shards.conf order, one after another, and a shard new to the
    /// transaction gets its `BEGIN` (SQLite's write lock) before the next is taken: two
    /// sessions writing to the same shards then queue instead of each holding one lock the
    /// other waits for.
    func beginWrites(on shards: [Shard]) async throws -> WriteScope {
        if transaction == nil { transaction = SessionTransaction(explicit: false) }
        let transaction = self.transaction!
        let ordered = context.shardOrder.inFileOrder(shards.map(\.name)).compactMap { name in shards.first { $0.name == name } }
        var scope = WriteScope()
        do {
            for shard in ordered where scope.entry(for: shard) == nil {
                if let lease = transaction.lease(for: shard) {
                    scope.append(.init(shard: shard, lease: lease, began: false))
                } else {
                    let lease = try await shard.lease()
                    scope.append(.init(shard: shard, lease: lease, began: true))
                    let recording = configuration.server.commit == .twoPhase
                    try await lease.run { try $0.begin(recordingChanges: recording) }
                }
            }
        } catch {
            // Nothing ran yet: no savepoint to undo; the new leases go back to their pools,
            // which roll back their BEGIN.
            await finishWrites(scope, failed: Set(scope.entries.map(\.shard.name)))
            throw error
        }
        return scope
    }

    /// Ends a write request. `failed` names the shards whose part already failed (and was
    /// undone in its own hop); when it is not empty the other shards' parts are undone too.
    func finishWrites(_ scope: WriteScope, failed: Set<String>) async {
        let transaction = self.transaction
        if failed.isEmpty {
            await withTaskGroup(of: Void.self) { group in
                for entry in scope.entries where !entry.began {
                    group.addTask { _ = try? await entry.lease.run { try $0.releaseSavepoint(WriteScope.savepoint) } }
                }
            }
            for entry in scope.entries where entry.began { transaction?.add(entry.shard, entry.lease) }
            return
        }
        await withTaskGroup(of: Void.self) { group in
            for entry in scope.entries where !failed.contains(entry.shard.name) {
                group.addTask { _ = try? await entry.lease.run { WriteScope.undo($0, began: entry.began) } }
            }
        }
        for entry in scope.entries where entry.began { await entry.lease.release() }
        if let transaction, transaction.leases.isEmpty, !transaction.explicit { self.transaction = nil }
    }

    /// Runs one write body per shard concurrently inside a write scope; all or nothing.
    func writeEach<T: Sendable>(
        _ work: [(shard: Shard, body: @Sendable (any ShardConnection) throws -> T)]
    ) async throws -> [T] {
        let scope = try await beginWrites(on: work.map(\.shard))
        let outcomes = await withTaskGroup(of: (Int, Result<T, Error>).self) { group in
            for (index, item) in work.enumerated() {
                let entry = scope.entry(for: item.shard)!
                let body = item.body
                group.addTask {
                    do {
                        return (index, .success(try await WriteScope.run(entry, body)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var outcomes = [Result<T, Error>?](repeating: nil, count: work.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.map { $0! }
        }
        var failed: Set<String> = []
        var firstError: Error?
        for (index, outcome) in outcomes.enumerated() {
            if case .failure(let error) = outcome {
                failed.insert(work[index].shard.name)
                if firstError == nil { firstError = error }
            }
        }
        await finishWrites(scope, failed: failed)
        if let firstError { throw firstError }
        return outcomes.map { try! $0.get() }
    }

    /// Runs a read on a shard: through the transaction's connection when the transaction
    /// holds that shard (so it sees its own writes, and its failure leaves the transaction
    /// usable: `ConnectionLease.read`), else in autocommit.
    func read<T: Sendable>(on shard: Shard, _ body: @escaping @Sendable (any ShardConnection) throws -> T) async throws -> T {
        try await Session.read(on: shard, lease: transaction?.lease(for: shard), body)
    }

    /// - Parameter inlineUntil: on SQLite, first try the read on the calling thread until this
    ///   deadline (`Shard.withConnection(inlineUntil:_:)`); only outside the transaction's connection.
    static func read<T: Sendable>(
        on shard: Shard, lease: ConnectionLease?, inlineUntil deadline: UInt64? = nil,
        _ body: @escaping @Sendable (any ShardConnection) throws -> T
    ) async throws -> T {
        guard let lease else { return try await shard.withConnection(inlineUntil: deadline, body) }
        return try await lease.read(body)
    }

    // MARK: - begin / commit / rollback

    func begin() -> JSONObject {
        if transaction == nil { transaction = SessionTransaction(explicit: true) }
        return JSONObject([("shards", .array(transaction!.shardNames(in: context.shardOrder).map(JSONValue.string)))])
    }

    /// Rolls back every touched shard and empties the identity map.
    func rollback() async -> JSONObject {
        let names = transaction?.shardNames(in: context.shardOrder) ?? []
        await abandonTransaction()
        identityMap.removeAll()
        return JSONObject([("shards", .array(names.map(JSONValue.string)))])
    }

    /// Rolls back and releases every lease (connections go back to their pools clean).
    func abandonTransaction() async {
        guard let transaction else { return }
        self.transaction = nil
        record.transactionWrote(nil)
        await withTaskGroup(of: Void.self) { group in
            for item in transaction.leases {
                group.addTask {
                    _ = try? await item.lease.run { connection in
                        if connection.isInTransaction { try connection.rollback() }
                    }
                    await item.lease.release()
                }
            }
        }
    }
}
