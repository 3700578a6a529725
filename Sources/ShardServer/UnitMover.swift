import Logging
import ShardCore
import ShardProtocol
import ShardStore

/// Moves one step of a job (protocol.md 13, docs/moves.md): the units' rows of a placement
/// group, children included, from one shard to another, while every request keeps working.
///
/// 1. **Scaffolding**: on the source, a change log with triggers on each of the group's
///    tables; on both shards, a key list and a view per table; the target's listed rows are
///    hidden from clients (`HiddenRows`) from the start.
/// 2. **Copy** from one consistent read of the source into the target's own tables, each row
///    listed on both shards as it goes in (so: hidden on the target); then **catch-up**: the
///    keys the change log recorded meanwhile are read again and recopied or removed.
/// 3. **Switch** (`JobRunner`): with the group's requests paused, the last changes; then the
///    target's rows are shown and the source's hidden: two in-memory flips, made durable by
///    the job file and the placement, whatever the unit's size.
/// 4. **Clean-up**: the source's hidden rows deleted in batches, then the scaffolding. Before
///    the switch, **undo** deletes the target's hidden copies instead.
final class UnitMover {
    let context: ServerContext
    let step: MoveJob.Step
    let source: Shard
    let target: Shard
    /// The group's models, parents before children.
    private(set) var members: [Member]
    /// The head's rule (nil for a row unit).
    private let rule: ShardBy?
    private let unitColumn: Int?
    /// Called with the rows copied so far.
    var progress: @Sendable (Int) -> Void = { _ in }

    static let pageSize = 2000
    /// Catch-up rounds before the switch; the switch drains what is left under the pause.
    static let catchUpRounds = 8

    struct Member {
        let model: Model
        /// Index of the parent member and the column naming it (nil for the head).
        let parent: Int?
        let viaPosition: Int?
        /// Keys (the source's) of the unit's rows as copied.
        var keys: Set<[ShardValue]> = []
        /// Source keys given another key on the target (`shard_local` ids it already had).
        var renamed: [[ShardValue]: [ShardValue]] = [:]
        /// The change log read up to here.
        var seq: Int64 = 0

        func targetKey(_ key: [ShardValue]) -> [ShardValue] { renamed[key] ?? key }
    }

    init(context: ServerContext, step: MoveJob.Step) throws {
        self.context = context
        self.step = step
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

    var rowsCopied: Int { members.reduce(0) { $0 + $1.keys.count } }

    /// The new keys of rows renumbered on the target, in the order given (a row renumbered
    /// again by a catch-up appears again, later: the last pair of a key holds).
    private(set) var rekeyed: [MoveJob.Rekey] = []

    // MARK: - Scaffolding

    private static func execute(_ statements: [String], on shard: Shard) async throws {
        try await shard.withConnection { connection in try connection.inTransaction { for sql in statements { try connection.execute(sql) } } }
    }

    /// Change logs on the source, key lists and views on both; the target's list hidden.
    func scaffold() async throws {
        try await Self.execute(members.flatMap { source.dialect.createChangeLog($0.model) + source.dialect.createKeyList($0.model) }, on: source)
        try await Self.execute(members.flatMap { target.dialect.createKeyList($0.model) }, on: target)
        hide(on: target)
    }

    /// Clients stop seeing the listed rows of the group's tables on `shard`.
    func hide(on shard: Shard) {
        for member in members { shard.hidden.hide(SQLDialect.hiddenTable(member.model)) }
    }

    /// At start: hides the tables of `shard` whose key list is still there, and shows the others
    /// (a step cut short after its clean-up dropped a list has nothing left to hide there, and
    /// no view to read).
    /// A shard that cannot be asked is hidden whole: its rows must not be shown by mistake.
    func hideListed(on shard: Shard) async {
        for member in members {
            let statement = shard.dialect.listedCount(member.model)
            do {
                _ = try await shard.withConnection { try $0.uncounted.run(statement) }
                shard.hidden.hide(SQLDialect.hiddenTable(member.model))
            } catch let error as BackendError where error.cause == .unreachable {
                shard.hidden.hide(SQLDialect.hiddenTable(member.model))
            } catch {
                // No list (and no view): nothing of this table to hide.
                shard.hidden.show(member.model.table)
            }
        }
    }

    func show(on shard: Shard) {
        for member in members { shard.hidden.show(member.model.table) }
    }

    /// Deletes the listed rows on `shard` in batches (hidden, so clients never see a part of
    /// it), then shows the tables and drops the lists and views (and, on the source, the change
    /// logs). True when done; idempotent.
    @discardableResult
    func removeListed(on shard: Shard) async -> Bool {
        do {
            for member in members.reversed() {
                let model = member.model, dialect = shard.dialect
                while true {
                    let page = dialect.listedKeys(model, limit: Self.pageSize)
                    let deleted = try await shard.withConnection { connection -> Int in
                        guard let keys = try? connection.uncounted.run(page).rows, !keys.isEmpty else { return 0 }
                        try connection.inTransaction {
                            for statement in dialect.deleteRows(model, keys: keys) + dialect.deleteRows(SQLDialect.keyList(model), keys: keys) {
                                _ = try connection.uncounted.run(statement)
                            }
                        }
                        return keys.count
                    }
                    if deleted < Self.pageSize { break }
                }
            }
            try await dropScaffolding(on: shard)
            return true
        } catch {
            context.logger.warning("move of \(step.group) \(step.unitText): cannot clean up on \(shard.name) yet: \(error)")
            return false
        }
    }

    /// Shows the tables, then drops the key lists, views and change logs on `shard`.
    func dropScaffolding(on shard: Shard) async throws {
        show(on: shard)
        let statements = members.flatMap { member in
            shard.dialect.dropKeyList(member.model) + (shard === source ? shard.dialect.dropChangeLog(member.model) : [])
        }
        try await Self.execute(statements, on: shard)
    }

    /// Before the switch: the target's copies deleted, everything the move made removed.
    @discardableResult
    func undo() async -> Bool {
        let targetDone = await removeListed(on: target)
        let sourceDone = (try? await dropScaffolding(on: source)) != nil
        return targetDone && sourceDone
    }

    /// After the switch: the source's rows deleted, everything the move made removed.
    @discardableResult
    func cleanUp() async -> Bool {
        let sourceDone = await removeListed(on: source)
        let targetDone = (try? await dropScaffolding(on: target)) != nil
        return sourceDone && targetDone
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

    /// Every row of the units, from one consistent read of the source, into the target.
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
                try await place(rows.filter(headBelongs), member: 0, replacing: [])
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
    /// copy's snapshot) or on any connection (catch-up), copied.
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
            // In pages: one transaction each, so that other writers of the shards wait at most
            // one page (a parent chunk's children can be hundreds of thousands of rows).
            for start in stride(from: 0, to: rows.count, by: Self.pageSize) {
                let page = Array(rows[start..<min(start + Self.pageSize, rows.count)])
                let keys = page.map { row in model.primaryKeyPositions.map { row[$0] } }
                try await place(page, member: index, replacing: lease == nil ? keys.filter { members[index].keys.contains($0) } : [])
            }
        }
    }

    /// Rows of member `index` (as the source has them) into the target's table, listed on both
    /// shards; `replacing` are source keys whose earlier copies go first.
    private func place(_ rows: [[ShardValue]], member index: Int, replacing: [[ShardValue]]) async throws {
        guard !rows.isEmpty || !replacing.isEmpty else { return }
        let model = members[index].model
        let list = SQLDialect.keyList(model)
        let dialect = target.dialect
        // The target's copy of a replaced row goes, and so does its new id: it is made again.
        let oldTargetKeys = replacing.map { members[index].targetKey($0) }
        for key in replacing { members[index].renamed[key] = nil }
        var named = rows
        // Children name their parents by the parents' keys on the target.
        if let parent = members[index].parent, let via = members[index].viaPosition, !members[parent].renamed.isEmpty {
            for position in named.indices {
                if let renamed = members[parent].renamed[[named[position][via]]] { named[position][via] = renamed[0] }
            }
        }
        let rows = named
        let sourceKeys = rows.map { row in model.primaryKeyPositions.map { row[$0] } }
        let renumber = model.id == .shardLocal && model.primaryKey.count == 1
        let keyPosition = model.primaryKeyPositions[0]
        let columns = model.columns.map(\.name)
        let renamed = try await target.withConnection { connection -> [[ShardValue]: [ShardValue]] in
            try connection.inTransaction {
                let run = connection.uncounted
                for statement in dialect.deleteRows(model, keys: oldTargetKeys) + dialect.deleteRows(list, keys: oldTargetKeys) {
                    _ = try run.run(statement)
                }
                var renamed: [[ShardValue]: [ShardValue]] = [:]
                if renumber, !rows.isEmpty {
                    // Ids the target already has get new ones, above every id it handed out.
                    let ids = rows.map { $0[keyPosition] }
                    if dialect.backend == .postgres, let top = ids.compactMap(\.intValue).max() {
                        try run.execute(dialect.reserveIDs(model, upTo: top))
                    }
                    var taken: Set<ShardValue> = []
                    for statement in dialect.keysIn(model, ids) { taken.formUnion(try run.run(statement).rows.map { $0[0] }) }
                    let clashing = ids.filter { taken.contains($0) }
                    if !clashing.isEmpty {
                        let fresh: [ShardValue]
                        if dialect.backend == .postgres {
                            fresh = try run.run(dialect.nextIDs(model, count: clashing.count)).rows.map { $0[0] }
                        } else {
                            // Above the batch's own ids too, which keep theirs.
                            let top = max(try run.run(dialect.highestID(model)).rows.first?.first?.intValue ?? 0, ids.compactMap(\.intValue).max() ?? 0)
                            fresh = (1...clashing.count).map { ShardValue.int(top + Int64($0)) }
                        }
                        for (old, new) in zip(clashing, fresh) { renamed[[old]] = [new] }
                    }
                }
                let placed = rows.map { row -> [ShardValue] in
                    guard let new = renamed[[row[keyPosition]]] else { return row }
                    var row = row
                    row[keyPosition] = new[0]
                    return row
                }
                let targetKeys = placed.map { row in model.primaryKeyPositions.map { row[$0] } }
                if !placed.isEmpty {
                    for statement in dialect.insertMany(list, columns: model.primaryKey, rows: targetKeys) + dialect.insertMany(model, columns: columns, rows: placed) {
                        _ = try run.run(statement)
                    }
                }
                return renamed
            }
        }
        // The source lists the same rows by its own keys.
        let sourceDialect = source.dialect
        try await source.withConnection { connection in
            try connection.inTransaction {
                for statement in sourceDialect.deleteRows(list, keys: replacing) + sourceDialect.insertMany(list, columns: model.primaryKey, rows: sourceKeys) {
                    _ = try connection.uncounted.run(statement)
                }
            }
        }
        members[index].keys.subtract(replacing)
        members[index].keys.formUnion(sourceKeys)
        members[index].renamed.merge(renamed) { $1 }
        let target = self.target.name, source = self.source.name
        for (from, to) in renamed {
            rekeyed.append(MoveJob.Rekey(from: IdentityKey(model: model.name, primaryKey: from, token: source),
                                         to: IdentityKey(model: model.name, primaryKey: to, token: target)))
        }
        progress(rowsCopied)
    }

    // MARK: - Catch-up

    /// Recopies every key the change logs recorded since the last round; returns how many
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
                try await recopy(keys, member: index)
                if entries.count < Self.pageSize { break }
            }
        }
        return read
    }

    /// The rows of `keys` as the source has them now: copied when they belong to the unit,
    /// out of the target otherwise; a parent new to the unit brings its children.
    private func recopy(_ keys: [[ShardValue]], member index: Int) async throws {
        let model = members[index].model
        var current: [[ShardValue]] = []
        for statement in source.dialect.rows(model, keys: keys) {
            current += try await source.withConnection { try $0.uncounted.run(statement).rows }
        }
        let mine = current.filter { belongs($0, member: index) }
        let added = Set(mine.map { row in model.primaryKeyPositions.map { row[$0] } }).subtracting(members[index].keys)
        try await place(mine, member: index, replacing: keys.filter { members[index].keys.contains($0) })
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

    /// Whether both shards list exactly the rows copied (checked under the pause, before the
    /// switch trusts the lists).
    func listsAreComplete() async throws -> Bool {
        for member in members {
            let statement = source.dialect.listedCount(member.model), targetStatement = target.dialect.listedCount(member.model)
            let onSource = try await source.withConnection { try $0.uncounted.run(statement).rows.first?.first?.intValue }
            let onTarget = try await target.withConnection { try $0.uncounted.run(targetStatement).rows.first?.first?.intValue }
            guard onSource == Int64(member.keys.count), onTarget == Int64(member.keys.count) else { return false }
        }
        return true
    }

    /// The open transactions that wrote to the group, each with its session.
    func transactionsOnGroup() -> [(session: SessionRecord, transaction: Int)] {
        context.sessions.compactMap { session in session.transaction(writing: step.group).map { (session, $0) } }
    }
}
