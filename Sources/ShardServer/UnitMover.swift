import Logging
import ShardCore
import ShardProtocol
import ShardStore

/// Moves one step of a job (protocol.md 13, docs/moves.md): the units' rows of a placement
/// group, children included, from one shard to another, while every request keeps working.
///
/// 1. **Scaffolding**: a change log with triggers on each of the group's tables on the
///    source, a stage table for each on the target.
/// 2. **Copy** from one consistent read of the source into the stages; then **catch-up**:
///    the keys the change log recorded meanwhile are read again and restaged.
/// 3. **Switch**: open transactions that wrote to the group end (or are rolled back after
///    `move_switch_timeout_ms`); the group's requests pause (at most `move_pause_ms`); the
///    last changes are staged; one atomic commit (6.1) moves the stages into the target's
///    tables and deletes the rows on the source; the placement names the target.
/// 4. **Clean-up**: the scaffolding goes.
///
/// Until the switch commits nothing readable has changed, so a failure there undoes the
/// scaffolding and leaves the rows where they were.
final class UnitMover {
    let context: ServerContext
    let step: MoveJob.Step
    let jobID: Int
    let source: Shard
    let target: Shard
    let logger: Logger
    /// The group's models, parents before children.
    private(set) var members: [Member]
    /// The head's rule (nil for a row unit).
    private let rule: ShardBy?
    private let unitColumn: Int?
    /// Called with the rows staged so far.
    var progress: @Sendable (Int) -> Void = { _ in }

    static let pageSize = 2000
    /// Catch-up rounds before the switch; the switch drains what is left under the pause.
    static let catchUpRounds = 8

    struct Member {
        let model: Model
        /// Index of the parent member and the column naming it (nil for the head).
        let parent: Int?
        let viaPosition: Int?
        /// Keys of the unit's rows as staged.
        var keys: Set<[ShardValue]> = []
        /// The change log read up to here.
        var seq: Int64 = 0
    }

    init(context: ServerContext, step: MoveJob.Step, jobID: Int) throws {
        self.context = context
        self.step = step
        self.jobID = jobID
        logger = context.logger
        guard let source = context.shards.shard(named: step.from), let target = context.shards.shard(named: step.to) else {
            throw ShardError(.unknownShard, "the move names shard \(step.from) or \(step.to), which shards.conf no longer has")
        }
        self.source = source
        self.target = target
        let configuration = context.configuration
        guard let head = configuration.model(named: step.group) else {
            throw ShardError(.unknownModel, "the move names model \(step.group), which shards.conf no longer has")
        }
        var members = [Member(model: head, parent: nil, viaPosition: nil)]
        if head.shardBy != nil {
            // Children after their parents: by the length of their chain to the head.
            let chains = configuration.models.compactMap { configuration.placementChain(of: $0.name) }
                .filter { $0.count > 1 && $0.last?.model.name == head.name }.sorted { $0.count < $1.count }
            for chain in chains {
                guard let parent = members.firstIndex(where: { $0.model.name == chain[1].model.name }),
                      let via = chain[0].via, let position = chain[0].model.columns.firstIndex(where: { $0.name == via }) else { continue }
                members.append(Member(model: chain[0].model, parent: parent, viaPosition: position))
            }
        }
        self.members = members
        rule = context.routed.placement.rule(of: head.name)
        unitColumn = rule.flatMap { rule in head.columns.firstIndex { $0.name == rule.column } }
    }

    var rowsStaged: Int { members.reduce(0) { $0 + $1.keys.count } }

    // MARK: - Scaffolding

    /// Change logs on the source, empty stages on the target.
    func scaffold() async throws {
        let logs = members.flatMap { source.dialect.createChangeLog($0.model) }
        let stages = members.flatMap { target.dialect.createStage($0.model) }
        try await source.withConnection { connection in try connection.inTransaction { for sql in logs { try connection.execute(sql) } } }
        try await target.withConnection { connection in try connection.inTransaction { for sql in stages { try connection.execute(sql) } } }
    }

    /// Removes the change logs and the stages; true when both shards answered. Idempotent.
    @discardableResult
    func removeScaffolding() async -> Bool {
        let logs = members.flatMap { source.dialect.dropChangeLog($0.model) }
        let stages = members.map { target.dialect.dropStage($0.model) }
        let sourceDone: Void? = try? await source.withConnection { connection in try connection.inTransaction { for sql in logs { try connection.execute(sql) } } }
        let targetDone: Void? = try? await target.withConnection { connection in try connection.inTransaction { for sql in stages { try connection.execute(sql) } } }
        return sourceDone != nil && targetDone != nil
    }

    // MARK: - Copy

    /// Whether a head row belongs to the step's units.
    private func headBelongs(_ row: [ShardValue]) -> Bool {
        let head = members[0].model
        return step.units.contains { unit in
            if case .key(let key) = unit { return head.primaryKeyPositions.map { row[$0] } == key }
            guard let rule, let unitColumn else { return false }
            return unit.contains(row[unitColumn], under: rule)
        }
    }

    private func belongs(_ row: [ShardValue], member index: Int) -> Bool {
        let member = members[index]
        guard let parent = member.parent, let via = member.viaPosition else { return headBelongs(row) }
        return members[parent].keys.contains([row[via]])
    }

    /// Every row of the units, from one consistent read of the source, into the stages.
    func copy() async throws {
        let lease = try await source.lease()
        do {
            let snapshot = source.dialect.backend == .postgres ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN"
            try await lease.run { try $0.execute(snapshot) }
            // The head: pages in key order, the unit's condition in SQL where it has one.
            let head = members[0].model
            let condition = step.units.count == 1 ? unitCondition(step.units[0]) : nil
            var after: [ShardValue]?
            while true {
                let statement = source.dialect.rowPage(head, condition: condition, after: after, limit: Self.pageSize)
                let rows = try await lease.run { try $0.uncounted.run(statement).rows }
                let mine = rows.filter(headBelongs)
                try await stage(mine, member: 0)
                guard rows.count == Self.pageSize, let last = rows.last else { break }
                after = head.primaryKeyPositions.map { last[$0] }
            }
            // Children, by their parents' keys.
            for index in members.indices.dropFirst() {
                try await copyChildren(of: Array(members[members[index].parent!].keys), member: index, lease: lease)
            }
            try await lease.run { try $0.execute("COMMIT") }
            await lease.release()
        } catch {
            await lease.release()
            throw error
        }
    }

    private func unitCondition(_ unit: PlacementUnit) -> (sql: String, parameters: [ShardValue])? {
        if case .key(let key) = unit {
            var parameters: [ShardValue] = []
            return (source.dialect.keyCondition(members[0].model, key, parameters: &parameters), parameters)
        }
        guard let rule else { return nil }
        return source.dialect.unitCondition(unit, column: rule.column)
    }

    /// The rows of member `index` whose parent is one of `parentKeys`, read on `lease` (the
    /// copy's snapshot) or on any connection (catch-up), staged.
    private func copyChildren(of parentKeys: [[ShardValue]], member index: Int, lease: ConnectionLease?) async throws {
        guard !parentKeys.isEmpty else { return }
        let model = members[index].model
        let via = model.columns[members[index].viaPosition!].name
        for statement in source.dialect.rows(model, where: via, in: parentKeys.map { $0[0] }) {
            let rows: [[ShardValue]]
            if let lease {
                rows = try await lease.run { try $0.uncounted.run(statement).rows }
            } else {
                rows = try await source.withConnection { try $0.uncounted.run(statement).rows }
            }
            try await stage(rows, member: index, replacing: lease == nil)
        }
    }

    /// Rows of member `index` into its stage (replacing staged rows with the same keys).
    private func stage(_ rows: [[ShardValue]], member index: Int, replacing: Bool = false) async throws {
        guard !rows.isEmpty else { return }
        let model = members[index].model
        let keys = rows.map { row in model.primaryKeyPositions.map { row[$0] } }
        let stageModel = SQLDialect.stage(model)
        let dialect = target.dialect
        let deletes = replacing ? dialect.deleteRows(stageModel, keys: keys) : []
        let inserts = dialect.insertMany(stageModel, columns: model.columns.map(\.name), rows: rows)
        try await target.withConnection { connection in
            try connection.inTransaction {
                for statement in deletes { _ = try connection.uncounted.run(statement) }
                for statement in inserts { _ = try connection.uncounted.run(statement) }
            }
        }
        members[index].keys.formUnion(keys)
        progress(rowsStaged)
    }

    // MARK: - Catch-up

    /// Restages every key the change logs recorded since the last round; returns how many
    /// log entries it read.
    @discardableResult
    func catchUp() async throws -> Int {
        var read = 0
        for index in members.indices {
            while true {
                let model = members[index].model
                let page = source.dialect.changeLogPage(model, after: members[index].seq, limit: Self.pageSize)
                let entries = try await source.withConnection { try $0.uncounted.run(page).rows }
                guard let last = entries.last, case .int(let seq) = last[0] else { break }
                read += entries.count
                members[index].seq = seq
                var keys: [[ShardValue]] = []
                var seen: Set<[ShardValue]> = []
                for entry in entries {
                    let key = Array(entry.dropFirst())
                    if seen.insert(key).inserted { keys.append(key) }
                }
                try await restage(keys, member: index)
                if entries.count < Self.pageSize { break }
            }
        }
        return read
    }

    /// The rows of `keys` as the source has them now: staged when they belong to the unit,
    /// out of the stage otherwise; a parent new to the unit brings its children.
    private func restage(_ keys: [[ShardValue]], member index: Int) async throws {
        let model = members[index].model
        var current: [[ShardValue]] = []
        for statement in source.dialect.rows(model, keys: keys) {
            current += try await source.withConnection { try $0.uncounted.run(statement).rows }
        }
        let mine = current.filter { belongs($0, member: index) }
        let stageModel = SQLDialect.stage(model)
        let dialect = target.dialect
        let deletes = dialect.deleteRows(stageModel, keys: keys)
        let inserts = mine.isEmpty ? [] : dialect.insertMany(stageModel, columns: model.columns.map(\.name), rows: mine)
        try await target.withConnection { connection in
            try connection.inTransaction {
                for statement in deletes { _ = try connection.uncounted.run(statement) }
                for statement in inserts { _ = try connection.uncounted.run(statement) }
            }
        }
        let kept = Set(mine.map { row in model.primaryKeyPositions.map { row[$0] } })
        let added = kept.subtracting(members[index].keys)
        members[index].keys.subtract(keys)
        members[index].keys.formUnion(kept)
        progress(rowsStaged)
        for child in members.indices where members[child].parent == index {
            try await copyChildren(of: Array(added), member: child, lease: nil)
        }
    }

    /// Catch-up rounds until a round finds little to do (or `catchUpRounds` ran).
    func catchUpBeforeSwitch() async throws {
        for _ in 0..<Self.catchUpRounds {
            if try await catchUp() < 100 { return }
        }
    }

    // MARK: - Switch

    /// What the switch made ready: both shards' open transactions, and the new ids it gave.
    struct Switch {
        var parts: [AtomicCommit.Part]
        var rekeyed: [MoveJob.Rekey]
    }

    /// On the target, the stages into the tables (ids of `shard_local` rows the target already
    /// has renumbered, their children's references with them); on the source, the unit's
    /// rows deleted. Both transactions stay open for the atomic commit.
    /// - Throws: when a shard refuses, or the source does not hold exactly the staged rows
    ///   (raw SQL changed them under the pause): both transactions rolled back.
    func prepareSwitch() async throws -> Switch {
        let targetLease = try await target.lease()
        let sourceLease: ConnectionLease
        do {
            sourceLease = try await source.lease()
        } catch {
            await targetLease.release()
            throw error
        }
        do {
            try await targetLease.run { try $0.begin(recordingChanges: true) }
            try await sourceLease.run { try $0.begin(recordingChanges: true) }
            var rekeyed: [MoveJob.Rekey] = []
            for index in members.indices {
                rekeyed += try await renumber(member: index, on: targetLease)
                let model = members[index].model
                let insert = target.dialect.insertFromStage(model), identity = target.dialect.advanceIdentity(model)
                try await targetLease.run { connection in
                    try connection.execute(insert)
                    if let identity { try connection.execute(identity) }
                }
            }
            for index in members.indices.reversed() {
                let model = members[index].model
                let keys = Array(members[index].keys)
                let deletes = source.dialect.deleteRows(model, keys: keys)
                let deleted = try await sourceLease.run { connection in
                    try deletes.reduce(0) { $0 + (try connection.uncounted.run($1).rowsAffected) }
                }
                guard deleted == keys.count else {
                    throw ShardError(.internal, "\(model.name): the source \(source.name) holds \(deleted) of the \(keys.count) rows staged for the switch; rows changed under the pause (raw SQL?): the switch is tried again")
                }
            }
            return Switch(parts: [AtomicCommit.Part(shard: target, lease: targetLease), AtomicCommit.Part(shard: source, lease: sourceLease)],
                          rekeyed: rekeyed)
        } catch {
            for lease in [targetLease, sourceLease] {
                _ = try? await lease.run { connection in if connection.isInTransaction { try connection.rollback() } }
                await lease.release()
            }
            throw error
        }
    }

    /// New ids for the staged rows of a `shard_local` member whose ids the target already
    /// uses, above every id it has handed out; the children's references follow.
    private func renumber(member index: Int, on lease: ConnectionLease) async throws -> [MoveJob.Rekey] {
        let model = members[index].model
        guard model.id == .shardLocal, model.primaryKey.count == 1 else { return [] }
        let dialect = target.dialect
        let taken = dialect.stagedIDsTaken(model), highest = dialect.highestID(model)
        let (clashes, top) = try await lease.run { connection in
            (try connection.uncounted.run(taken).rows.map { $0[0] }, try connection.uncounted.run(highest).rows.first?.first?.intValue ?? 0)
        }
        guard !clashes.isEmpty else { return [] }
        let pairs = clashes.enumerated().map { (from: $0.element, to: ShardValue.int(top + 1 + Int64($0.offset))) }
        var statements = dialect.renumberStage(model, column: model.primaryKey[0], pairs)
        for child in members.indices where members[child].parent == index {
            statements += dialect.renumberStage(members[child].model, column: members[child].model.columns[members[child].viaPosition!].name, pairs)
        }
        let renumbering = statements
        try await lease.run { connection in for statement in renumbering { _ = try connection.uncounted.run(statement) } }
        // The in-memory keys follow, for the source's delete they do not: it deletes the old ones.
        return pairs.map { MoveJob.Rekey(from: IdentityKey(model: model.name, primaryKey: [$0.from], token: source.name),
                                         to: IdentityKey(model: model.name, primaryKey: [$0.to], token: target.name)) }
    }

    /// Sessions whose open transaction wrote to the group.
    func transactionsOnGroup() -> [SessionRecord] {
        context.sessions.filter { $0.transactionWrote(to: step.group) }
    }
}
