import ShardCore
import ShardProtocol

/// What the daemon's start found and did on its shards: each shard's status, how its tables
/// differed from the models (before any change), the statements it ran, and the id sequences.
package struct StartupReport: Sendable {
    package var statuses: [ShardSet.ShardStatus]
    /// Per usable shard, in file order: its drift as found, or why it could not be read.
    package var inspections: [SchemaMigration.Inspection]
    /// The statements run per shard name (only with `applyChanges`).
    package var applied: [String: [String]] = [:]
    /// Why the models last applied could not be read, if they could not.
    package var appliedModelsError: Error?
    package var sequenceError: Error?

    /// Every refused difference, shard by shard.
    package var refused: [SchemaDifference] {
        inspections.flatMap { (try? $0.drift.get())?.refused ?? [] }
    }

    /// Additive changes found and not made.
    package var pending: [SchemaDifference] {
        inspections.flatMap { inspection -> [SchemaDifference] in
            guard let drift = try? inspection.drift.get(), applied[inspection.shard.name] == nil else { return [] }
            return drift.additive
        }
    }

    /// Whether every shard answered, and its tables match the models now.
    package var allMatch: Bool {
        statuses.allSatisfy { $0.error == nil } && appliedModelsError == nil && inspections.count == statuses.count
            && inspections.allSatisfy { (try? $0.drift.get()) != nil } && refused.isEmpty && pending.isEmpty
    }
}

extension ShardSet {
    /// The start of the daemon (and of `--check`): `prepare`, then each usable shard's
    /// tables compared with the models, the additive changes made when `applyChanges` (each
    /// shard in one transaction; none while any shard has a refused difference), the models
    /// recorded as applied once every shard matches, and the id sequences moved above the
    /// existing ids of the shards whose tables are in place.
    /// - Parameter record: whether to write `models.json` once every shard matches (not for
    ///   `--check`, which changes nothing).
    package func start(beforeTables: (@Sendable () async -> Void)? = nil, applyChanges: Bool? = nil, record: Bool = true,
                       onStatement: @escaping @Sendable (String, String) -> Void = { _, _ in }) async -> StartupReport {
        let apply = applyChanges ?? configuration.server.createTables
        let statuses = await prepare(beforeTables: beforeTables)
        let usable = statuses.filter { $0.error == nil }.map(\.shard)
        let migration = SchemaMigration(shards: self)
        var report = StartupReport(statuses: statuses, inspections: [])
        do {
            report.inspections = try await migration.inspect(usable)
        } catch {
            report.appliedModelsError = error
            return report
        }
        if apply && report.refused.isEmpty {
            for inspection in report.inspections {
                guard case .success(let drift) = inspection.drift, !drift.statements.isEmpty else { continue }
                do {
                    let shard = inspection.shard
                    try await migration.apply(drift, on: shard) { onStatement(shard.name, $0) }
                    report.applied[shard.name] = drift.statements
                } catch {
                    let failure = error as? BackendError ?? BackendError(.refused, shard: inspection.shard.name, "\(error)")
                    if let index = report.inspections.firstIndex(where: { $0.shard === inspection.shard }) {
                        report.inspections[index].drift = .failure(failure)
                    }
                }
            }
        }
        if report.allMatch && record {
            do {
                try migration.recordApplied()
            } catch {
                report.appliedModelsError = error
            }
        }
        // Sequences read each model's largest id: only where every table is in place.
        let ready = report.inspections.compactMap { inspection -> Shard? in
            guard let drift = try? inspection.drift.get() else { return nil }
            let missingTable = drift.additive.contains { $0.column == nil } && report.applied[inspection.shard.name] == nil
            return missingTable ? nil : inspection.shard
        }
        do {
            try await seedSequences(usable: ready)
        } catch {
            report.sequenceError = error
        }
        return report
    }

    /// A shard that was down at start, once it answers: the daemon's own tables, then what
    /// `start` does for one shard (the models' tables compared, the additive changes made
    /// when `applyChanges`, the id sequences moved above its ids). Returns its drift as found;
    /// with refused differences nothing is changed.
    /// - Throws: when the shard still does not answer, or a change fails (rolled back).
    package func prepareLate(_ shard: Shard, applyChanges: Bool,
                             onStatement: @escaping @Sendable (String) -> Void = { _ in }) async throws -> SchemaDrift {
        try await shard.withConnection { connection in
            _ = try connection.uncounted.run(SQLDialect.probe)
            for sql in shard.dialect.commitTables { try connection.createIfMissing(sql) }
            for sql in shard.dialect.commitIndexes { try connection.createIfMissing(sql) }
        }
        let migration = SchemaMigration(shards: self)
        guard let inspection = try await migration.inspect([shard]).first else { throw BackendError(.refused, shard: shard.name, "not inspected") }
        let drift = try inspection.drift.get()
        guard drift.refused.isEmpty else { return drift }
        if applyChanges && !drift.statements.isEmpty {
            try await migration.apply(drift, on: shard, onStatement: onStatement)
        }
        if applyChanges || !drift.additive.contains(where: { $0.column == nil }) {
            try await seedSequences(usable: [shard])
        }
        return drift
    }
}
