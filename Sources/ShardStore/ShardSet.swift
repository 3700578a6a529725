import ShardCore
import ShardProtocol
import Synchronization

/// The daemon's shards in file order, the counter store of `sequence` ids, and the start-up
/// work on them: creating tables and making sure sequences stay above existing ids.
package final class ShardSet: Sendable {
    /// What a reload replaces as one: the configuration, the shards and the sequences.
    private struct Members: Sendable {
        var configuration: Configuration
        var shards: [Shard]
        var sequences: [String: IDSequence]
    }

    private let members: Mutex<Members>
    private let late = Mutex<Set<String>>([])
    package var configuration: Configuration { members.withLock { $0.configuration } }
    /// In shards.conf order.
    package var shards: [Shard] { members.withLock { $0.shards } }
    /// The `sequences.db` file under `state_dir`.
    package let stateStore: Shard
    /// One per model whose `id` is `sequence`.
    package var sequences: [String: IDSequence] { members.withLock { $0.sequences } }

    /// Opens no connection yet; see `prepare()`.
    package init(configuration: Configuration) {
        let stateStore = Shard.open(ShardSpec(
            name: "state",
            location: .sqlite(path: configuration.server.stateDir + "/sequences.db"),
            poolSize: 1
        ))
        self.stateStore = stateStore
        let shards = configuration.shards.map { Self.open($0, configuration) }
        members = Mutex(Members(configuration: configuration, shards: shards,
                                sequences: Self.sequences(configuration, shards: shards, stateStore: stateStore, keeping: [:])))
    }

    private static func open(_ spec: ShardSpec, _ configuration: Configuration) -> Shard {
        Shard.open(spec, statementTimeoutMs: configuration.server.requestTimeoutMs,
                   requirePreparedTransactions: configuration.server.commit == .twoPhase)
    }

    private static func sequences(_ configuration: Configuration, shards: [Shard], stateStore: Shard,
                                  keeping kept: [String: IDSequence]) -> [String: IDSequence] {
        var sequences: [String: IDSequence] = [:]
        for model in configuration.models where model.id == .sequence {
            if let sequence = kept[model.name] { sequences[model.name] = sequence; continue }
            let counter = model.sequenceShard.flatMap { name in shards.first { $0.name == name } } ?? stateStore
            sequences[model.name] = IDSequence(model: model.name, counter: counter)
        }
        return sequences
    }

    /// The set a reload would make of this one for `configuration`: the shards it keeps
    /// (same objects, so pools and health carry on), new ones opened (not connected), the
    /// sequences of the models it keeps and new ones. This set is unchanged until `adopt`.
    package func reloaded(_ configuration: Configuration) -> ShardSet {
        let current = members.withLock { $0 }
        let shards = configuration.shards.map { spec in current.shards.first { $0.name == spec.name } ?? Self.open(spec, configuration) }
        return ShardSet(stateStore: stateStore, members: Members(
            configuration: configuration, shards: shards,
            sequences: Self.sequences(configuration, shards: shards, stateStore: stateStore, keeping: current.sequences)))
    }

    private init(stateStore: Shard, members: Members) {
        self.stateStore = stateStore
        self.members = Mutex(members)
    }

    /// Takes `next`'s configuration, shards and sequences (made by `reloaded`), applying
    /// the pools' sizes and timeouts to the shards it keeps; shards `next` no longer has
    /// are closed.
    package func adopt(_ next: ShardSet) {
        let taken = next.members.withLock { $0 }
        let dropped = members.withLock { members in
            defer { members = taken }
            return members.shards.filter { shard in !taken.shards.contains { $0 === shard } }
        }
        for spec in taken.configuration.shards {
            guard let shard = taken.shards.first(where: { $0.name == spec.name }) else { continue }
            shard.resize(to: spec.poolSize)
            shard.retime(taken.configuration.server.requestTimeoutMs)
        }
        for shard in dropped { shard.close() }
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
    /// - Parameter some: these shards only (a reload's new shards); all by default.
    package func prepare(_ some: [Shard]? = nil, beforeTables: (@Sendable () async -> Void)? = nil) async -> [ShardStatus] {
        let atomic = configuration.server.commit == .twoPhase
        let start = ContinuousClock.now
        var statuses = await eachShard(some) { shard in
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

    /// Shards that a reload could not bring up to the models (down then): the monitor
    /// prepares them as it does shards down at start, once they answer.
    package func markLate(_ names: [String]) {
        late.withLock { $0.formUnion(names) }
    }

    /// The shards marked late since the last call.
    package func takeLate() -> Set<String> {
        late.withLock { late in
            defer { late = [] }
            return late
        }
    }

    /// Rows of each of `models` on `shard` (a table the shard lacks holds none), not
    /// counted as client statements.
    package func rowCounts(on shard: Shard, models: [Model]) async throws -> [String: Int64] {
        try await shard.withConnection { connection in
            var counts: [String: Int64] = [:]
            for model in models {
                guard try !connection.uncounted.run(Statement(shard.dialect.tableExists, [.text(model.table)], resultTypes: [.int])).rows.isEmpty else { continue }
                counts[model.name] = try connection.uncounted.run(shard.dialect.count(model, where: nil)).rows.first?.first?.intValue ?? 0
            }
            return counts
        }
    }

    /// Closes every pool.
    package func close() {
        for shard in shards { shard.close() }
        stateStore.close()
    }
}
