import ShardCore
import ShardProtocol

/// The I/O of "Changing the schema" (config.md): reads every shard's catalog, compares it
/// with the models (`SchemaDrift`), and makes the additive changes, each shard in one
/// transaction. Used by `shardd --check`, `shardd migrate` and the daemon's start.
package struct SchemaMigration: Sendable {
    package let shards: ShardSet

    package init(shards: ShardSet) {
        self.shards = shards
    }

    /// What `inspect` found on one shard: its drift, or why it could not be read.
    package struct Inspection: Sendable {
        package var shard: Shard
        package var drift: Result<SchemaDrift, BackendError>
    }

    /// The drift of each of `some` shards (all by default), in file order, read concurrently.
    package func inspect(_ some: [Shard]? = nil) async throws -> [Inspection] {
        let applied = try AppliedModels.load(stateDir: shards.configuration.server.stateDir)
        let models = shards.configuration.models
        let targets = some ?? shards.shards
        return await withTaskGroup(of: (Int, Inspection).self) { group in
            for (index, shard) in targets.enumerated() {
                group.addTask {
                    do {
                        let drift = try await shard.withConnection { connection throws(BackendError) in
                            try Self.drift(on: connection, shard: shard, models: models, applied: applied)
                        }
                        return (index, Inspection(shard: shard, drift: .success(drift)))
                    } catch let error as BackendError {
                        return (index, Inspection(shard: shard, drift: .failure(error)))
                    } catch {
                        return (index, Inspection(shard: shard, drift: .failure(BackendError(.refused, shard: shard.name, "\(error)"))))
                    }
                }
            }
            var out: [Inspection?] = Array(repeating: nil, count: targets.count)
            for await (index, inspection) in group { out[index] = inspection }
            return out.compactMap { $0 }
        }
    }

    /// One shard's drift, read on `connection`.
    package static func drift(on connection: any ShardConnection, shard: Shard, models: [Model],
                      applied: AppliedModels?) throws(BackendError) -> SchemaDrift {
        let dialect = shard.dialect
        var catalogs: [String: TableCatalog] = [:]
        var duplicates: [SchemaDrift.ColumnRef: ShardValue] = [:]
        for model in models {
            guard let catalog = try connection.catalog(of: model.table, dialect: dialect) else { continue }
            catalogs[model.table] = catalog
            // A `unique` to add is refused when rows already repeat a value: found before
            // anything is touched, so that no shard is left half changed.
            for column in model.columns where column.unique && catalog.column(named: column.name) != nil && !catalog.isUnique(column.name) {
                if let value = try connection.run(dialect.duplicateValue(column, of: model)).rows.first?.first {
                    duplicates[SchemaDrift.ColumnRef(table: model.table, column: column.name)] = value
                }
            }
        }
        return SchemaDrift(shard: shard.name, dialect: dialect, models: models, applied: applied, catalogs: catalogs,
                           duplicates: duplicates)
    }

    /// Makes `drift`'s additive changes on its shard in one transaction; `onStatement` sees
    /// each statement before it runs. Nothing is made when the drift has refused differences.
    /// - Parameter lockTimeoutMs: how long the change waits for a lock an open transaction
    ///   holds (a reload's, while sessions serve: on PostgreSQL an `ALTER TABLE` waiting
    ///   behind it would hold up every later reader of the table; on SQLite the write lock);
    ///   nil: as long as the statement timeout.
    package func apply(_ drift: SchemaDrift, on shard: Shard, lockTimeoutMs: Int? = nil,
                       onStatement: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        precondition(drift.refused.isEmpty, "refused differences are never applied")
        let statements = drift.statements
        guard !statements.isEmpty else { return }
        try await shard.withConnection { connection in
            let change = {
                _ = try connection.inTransaction {
                    for sql in statements {
                        onStatement(sql)
                        try connection.execute(sql)
                    }
                }
            }
            if let lockTimeoutMs { try connection.waitingForLocks(atMostMs: lockTimeoutMs, change) } else { try change() }
        }
    }

    /// Records the models as applied to every shard (`state_dir/models.json`), unless the
    /// file already says so.
    package func recordApplied() throws {
        let stateDir = shards.configuration.server.stateDir
        let models = AppliedModels(shards.configuration.models)
        if (try? AppliedModels.load(stateDir: stateDir)) == models { return }
        try models.save(stateDir: stateDir)
    }
}

extension ShardConnection {
    /// What the catalog says of `table`; nil when the table does not exist.
    func catalog(of table: String, dialect: SQLDialect) throws(BackendError) -> TableCatalog? {
        guard try !run(Statement(dialect.tableExists, [.text(table)], resultTypes: [.int])).rows.isEmpty else { return nil }
        let columns = try run(Statement(dialect.tableColumns, [.text(table)], resultTypes: [.text, .text, .int, .text, .int])).rows.map { row in
            TableCatalog.Column(name: row[0].stringValue ?? "", type: row[1].stringValue ?? "", notNull: row[2] == .int(1),
                                defaultSQL: row[3].stringValue,
                                primaryKeyPosition: Int(row[4].intValue ?? 0))
        }
        let indexes = try run(Statement(dialect.tableIndexes, [.text(table)], resultTypes: [.text, .int, .text])).rows.map { row in
            TableCatalog.Index(name: row[0].stringValue ?? "", columns: (row[2].stringValue ?? "").split(separator: ",").map(String.init),
                               unique: row[1] == .int(1))
        }
        return TableCatalog(table: table, columns: columns, indexes: indexes)
    }
}
