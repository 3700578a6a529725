import ShardCore
import ShardProtocol

/// The daemon's shards in file order, the counter store of `sequence` ids, and the start-up
/// work on them: creating tables and making sure sequences stay above existing ids.
package final class ShardSet: Sendable {
    package let configuration: Configuration
    /// In shards.conf order.
    package let shards: [Shard]
    /// The `sequences.db` file under `state_dir`.
    package let stateStore: Shard
    /// One per model whose `id` is `sequence`.
    package let sequences: [String: IDSequence]

    /// Opens no connection yet; see `prepare()`.
    package init(configuration: Configuration) {
        self.configuration = configuration
        let timeout = configuration.server.requestTimeoutMs
        let atomic = configuration.server.commit == .twoPhase
        let shards = configuration.shards.map { Shard.open($0, statementTimeoutMs: timeout, requirePreparedTransactions: atomic) }
        self.shards = shards
        let stateStore = Shard.open(ShardSpec(
            name: "state",
            location: .sqlite(path: configuration.server.stateDir + "/sequences.db"),
            poolSize: 1
        ))
        self.stateStore = stateStore
        var sequences: [String: IDSequence] = [:]
        for model in configuration.models where model.id == .sequence {
            let counter = model.sequenceShard.flatMap { name in shards.first { $0.name == name } } ?? stateStore
            sequences[model.name] = IDSequence(model: model.name, counter: counter)
        }
        self.sequences = sequences
    }

    package func shard(named name: String) -> Shard? {
        shards.first { $0.name == name }
    }

    /// What `prepare()` found on one shard.
    package struct ShardStatus: Sendable {
        package var shard: Shard
        /// nil when the shard is usable.
        package var error: BackendError?
        /// Milliseconds taken to connect and prepare the shard.
        package var elapsedMs: Double
        /// PostgreSQL's `max_prepared_transactions`, read when commits are atomic.
        package var maxPreparedTransactions: Int64? = nil
    }

    /// Connects to every shard concurrently and makes the daemon's own tables; then runs
    /// `beforeTables` (commit recovery: a prepared transaction still holding locks would
    /// make DDL wait for it), then the indexes of the daemon's own tables. The models' tables
    /// are `SchemaMigration`'s, and the id sequences `seedSequences`'s, after it. Returns one
    /// status per shard, in file order; never throws for a shard that is down, so the caller
    /// can report all of them.
    package func prepare(beforeTables: (@Sendable () async -> Void)? = nil) async -> [ShardStatus] {
        let atomic = configuration.server.commit == .twoPhase
        let start = ContinuousClock.now
        var statuses = await eachShard { shard in
            try await shard.withConnection { connection -> Int64? in
                _ = try connection.run(SQLDialect.probe)
                // The daemon's own tables (markers of atomic commits, labels).
                for sql in shard.dialect.commitTables { try connection.createIfMissing(sql) }
                guard atomic, shard.dialect.preparesTransactions,
                      case .int(let n)? = try connection.run(SQLDialect.maxPreparedTransactions).rows.first?.first else { return nil }
                return n
            }
        }
        await beforeTables?()
        let usable = statuses.filter { $0.error == nil }.map(\.shard)
        let created = await eachShard(usable) { shard -> Int64? in
            try await shard.withConnection { connection in
                for sql in shard.dialect.commitIndexes { try connection.createIfMissing(sql) }
            }
            return nil
        }
        for status in created where status.error != nil {
            if let index = statuses.firstIndex(where: { $0.shard === status.shard }) { statuses[index].error = status.error }
        }
        for index in statuses.indices { statuses[index].elapsedMs = (ContinuousClock.now - start).milliseconds }
        return statuses
    }

    /// Runs `body` on each of `some` shards (all by default) concurrently; a status each, in order.
    private func eachShard(_ some: [Shard]? = nil, _ body: @escaping @Sendable (Shard) async throws -> Int64?) async -> [ShardStatus] {
        let targets = some ?? shards
        return await withTaskGroup(of: (Int, ShardStatus).self) { group in
            for (index, shard) in targets.enumerated() {
                group.addTask {
                    let start = ContinuousClock.now
                    var failure: BackendError?
                    var prepared: Int64?
                    do {
                        prepared = try await body(shard)
                    } catch let error as BackendError {
                        failure = error
                    } catch {
                        failure = BackendError(.refused, shard: shard.name, "\(error)")
                    }
                    return (index, ShardStatus(shard: shard, error: failure, elapsedMs: (ContinuousClock.now - start).milliseconds,
                                               maxPreparedTransactions: prepared))
                }
            }
            var out: [ShardStatus?] = Array(repeating: nil, count: targets.count)
            for await (index, status) in group { out[index] = status }
            return out.compactMap { $0 }
        }
    }

    /// Moves each id sequence above the largest id of its model on each of `usable` shards,
    /// so that a lost or copied state file never hands out an id that exists.
    package func seedSequences(usable: [Shard]) async throws {
        for model in configuration.models where model.id == .sequence {
            guard let sequence = sequences[model.name], let key = model.primaryKey.first else { continue }
            var highest: Int64 = 0
            for shard in usable {
                let sql = "SELECT MAX(\(SQLDialect.quote(key))) FROM \(SQLDialect.quote(model.table))"
                let result = try await shard.withConnection { connection in
                    try connection.run(Statement(sql, resultTypes: [.int]))
                }
                if case .int(let max) = result.rows.first?.first { highest = Swift.max(highest, max) }
            }
            try await sequence.ensureAbove(highest)
        }
    }

    /// Closes every pool.
    package func close() {
        for shard in shards { shard.close() }
        stateStore.close()
    }
}
