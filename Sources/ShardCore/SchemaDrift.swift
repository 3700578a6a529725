import ShardProtocol

/// One way a shard's tables differ from the models (config.md "Changing the schema").
package struct SchemaDifference: Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        /// An additive change: `statements` make it.
        case add
        /// A change shardd does not make: nothing is touched while one exists.
        case refuse
        /// Reported, and left alone (a column the models no longer name).
        case note
    }

    package var kind: Kind
    package var shard: String
    package var model: String
    package var column: String?
    /// What differs and what to do.
    package var message: String
    package var statements: [String] = []

    /// `shard asia: model Report, column humidity: ...`
    package var description: String {
        "shard \(shard): model \(model)" + (column.map { ", column \($0)" } ?? "") + ": " + message
    }
}

/// How one shard's tables differ from the models: a pure comparison of the models, the
/// models last applied, and what the shard's catalog says.
package struct SchemaDrift: Sendable, Equatable {
    package var shard: String
    package var differences: [SchemaDifference]

    /// A column, as a key of the duplicates found for a `unique` to add.
    package struct ColumnRef: Sendable, Hashable {
        package var table: String
        package var column: String

        package init(table: String, column: String) {
            self.table = table
            self.column = column
        }
    }

    /// - Parameters:
    ///   - catalogs: the shard's tables of the models, by table name; a table missing from it
    ///     does not exist on the shard.
    ///   - duplicates: for each `unique` column whose table lacks the index, a value two rows share.
    package init(shard: String, dialect: some SchemaDialect, models: [Model], applied: AppliedModels?,
                 catalogs: [String: TableCatalog], duplicates: [ColumnRef: ShardValue] = [:]) {
        self.shard = shard
        var out: [SchemaDifference] = []
        for model in models {
            out += Self.compare(model, applied: applied?.model(named: model.name), catalog: catalogs[model.table],
                                shard: shard, dialect: dialect, duplicates: duplicates)
        }
        for gone in applied?.models ?? [] where !models.contains(where: { $0.name == gone.name }) {
            out.append(SchemaDifference(kind: .note, shard: shard, model: gone.name, column: nil,
                                        message: "no longer in the models; its table \(gone.table) is left as it is"))
        }
        differences = out
    }

    /// The additive changes' statements, in order.
    package var statements: [String] { differences.filter { $0.kind == .add }.flatMap(\.statements) }
    package var refused: [SchemaDifference] { differences.filter { $0.kind == .refuse } }
    package var additive: [SchemaDifference] { differences.filter { $0.kind == .add } }
    package var notes: [SchemaDifference] { differences.filter { $0.kind == .note } }
    /// Whether the shard matches the models (notes aside).
    package var matches: Bool { !differences.contains { $0.kind != .note } }

    private static func compare(_ model: Model, applied: AppliedModels.AppliedModel?, catalog: TableCatalog?,
                                shard: String, dialect: some SchemaDialect, duplicates: [ColumnRef: ShardValue]) -> [SchemaDifference] {
        var out: [SchemaDifference] = []
        func add(_ kind: SchemaDifference.Kind, _ column: String?, _ message: String, _ statements: [String] = []) {
            out.append(SchemaDifference(kind: kind, shard: shard, model: model.name, column: column, message: message,
                                        statements: statements))
        }
        let path = "models.\(model.name)"
        // What only the models last applied know.
        if let applied {
            if applied.table != model.table {
                add(.refuse, nil, "\(path).table changed from \(applied.table) to \(model.table), which shardd does not do (a new table would hide the old one's rows): set table = \"\(applied.table)\" again, or rename the table on every shard yourself and then remove \(model.name) from state_dir/models.json")
                return out
            }
            if applied.id != model.id.rawValue {
                add(.refuse, nil, "\(path).id changed from \"\(applied.id)\" to \"\(model.id.rawValue)\": the keys of existing rows were made the old way; set id = \"\(applied.id)\" again")
            }
            if applied.primaryKey != model.primaryKey {
                add(.refuse, nil, "\(path).primary_key changed from \(applied.primaryKey) to \(model.primaryKey), which shardd cannot change on existing rows; set it back")
            }
            for column in model.columns {
                guard let before = applied.columns.first(where: { $0.name == column.name }) else { continue }
                let at = "\(path).columns.\(column.name)"
                if before.type != column.type.rawValue {
                    add(.refuse, column.name, "\(at): type changed from \(before.type) to \(column.type.rawValue), which shardd does not convert; set it back, or add a new column and copy the values")
                }
                if before.nullable && !column.nullable && !model.primaryKey.contains(column.name) {
                    add(.refuse, column.name, "\(at): nullable = false on an existing nullable column, which rows may hold null in; set it back (or make it nullable = true)")
                }
                if before.serverDefault != column.serverDefault?.description {
                    add(.refuse, column.name, "\(at).server_default changed from \(before.serverDefault ?? "none") to \(column.serverDefault?.description ?? "none"), which shardd does not change on existing tables; set it back")
                }
            }
        }
        guard let catalog else {
            add(.add, nil, "table \(model.table) is missing: create it", dialect.statements(for: .createTable(model)))
            return out
        }
        let refusedBefore = Set(out.compactMap(\.column))
        let keyOnShard = catalog.primaryKey
        if applied == nil || applied?.primaryKey == model.primaryKey, keyOnShard != model.primaryKey {
            add(.refuse, nil, "the primary key is (\(keyOnShard.joined(separator: ", "))) in table \(model.table) and (\(model.primaryKey.joined(separator: ", "))) in the models; shardd cannot change it: set primary_key to the table's")
        }
        for column in model.columns {
            let at = "\(path).columns.\(column.name)"
            let isKey = model.primaryKey.contains(column.name)
            guard let found = catalog.column(named: column.name) else {
                if isKey { continue }  // reported with the key
                if !column.nullable && column.serverDefault == nil {
                    add(.refuse, column.name, "\(at) is new to table \(model.table) and nullable = false without a server_default, so the rows already there would have no value: make it nullable, or give it a server_default")
                } else if !dialect.addsClockDefaultsToExistingTables && column.serverDefault == .now {
                    add(.refuse, column.name, "\(at) is new to table \(model.table) with server_default = \"now\", which SQLite cannot add to an existing table (ALTER TABLE ADD COLUMN takes a constant default only): give it default = \"now\" (filled by shardd) instead, or a literal server_default")
                } else {
                    var statements = dialect.statements(for: .addColumn(column, model))
                    var what = "add the column"
                    if let value = column.serverDefault { what += " (existing rows get its server_default \(value))" }
                    if column.unique {
                        statements += dialect.statements(for: .createUniqueIndex(column, model))
                        what += " and its unique index"
                    } else if column.index {
                        statements += dialect.statements(for: .createIndex(column, model))
                        what += " and its index"
                    }
                    add(.add, column.name, "missing from table \(model.table): \(what)", statements)
                }
                continue
            }
            if refusedBefore.contains(column.name) { continue }  // the models last applied said why
            if found.type.lowercased() != dialect.catalogType(column.type).lowercased() {
                add(.refuse, column.name, "\(at): the shard's column is \(found.type), the models' \(column.type.rawValue) is \(dialect.catalogType(column.type)); shardd does not convert types: set the type back, or add a new column")
                continue
            }
            if !isKey && found.notNull == column.nullable {
                let message = column.nullable
                    ? "\(at): the shard's column is NOT NULL and the models say nullable; set nullable = false, or drop the constraint on every shard yourself"
                    : "\(at): nullable = false, and the shard's column allows null (rows may hold it); set it back to nullable, or fill the nulls and add the constraint on every shard yourself"
                add(.refuse, column.name, message)
            }
            let onShard = found.defaultSQL.map { dialect.parseDefault($0, type: column.type) }
            switch (onShard, column.serverDefault) {
            case (nil, nil): break
            case (let shardDefault??, let wanted?) where shardDefault == wanted: break
            case (nil, let wanted?):
                add(.refuse, column.name, "\(at).server_default is \(wanted) and the shard's column has no default; shardd does not change the default of an existing column: remove server_default, or set the default on every shard yourself")
            case (.some, let wanted):
                let shardText = found.defaultSQL ?? ""
                add(.refuse, column.name, "\(at): the shard's column has DEFAULT \(shardText), the models' server_default is \(wanted?.description ?? "none"); shardd does not change the default of an existing column: set server_default to match")
            }
            if column.unique && !isKey && !catalog.isUnique(column.name) {
                if let value = duplicates[ColumnRef(table: model.table, column: column.name)] {
                    add(.refuse, column.name, "\(at): unique = true, and rows of table \(model.table) repeat the value \(value.configSpelling); remove the duplicates first, or leave unique out")
                } else {
                    add(.add, column.name, "no unique index: create it", dialect.statements(for: .createUniqueIndex(column, model)))
                }
            } else if column.index && !column.unique && !catalog.isIndexed(column.name) {
                add(.add, column.name, "no index: create it", dialect.statements(for: .createIndex(column, model)))
            }
        }
        for extra in catalog.columns where model.column(named: extra.name) == nil {
            let fillable = !extra.notNull || extra.defaultSQL != nil
            add(.note, extra.name, "table \(model.table) has this column and the models do not name it; left alone"
                + (fillable ? "" : " (it is NOT NULL without a default: every add will fail until it is dropped or given a default)"))
        }
        return out
    }
}
