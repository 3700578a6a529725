import ShardProtocol
import TOMLKit

extension ConfigLoader {
    /// A model while it is being checked: what is known so far, even when parts are broken.
    struct ModelDraft {
        var name: String
        var path: ConfigPath
        var toml: TOMLTable?
        var table: String?
        /// Every column key in file order, valid or not (for "is not a column" checks, so
        /// that a broken column does not also make every reference to it an error).
        var declaredColumns: [String] = []
        /// The columns that are valid, in file order.
        var columns: [Column] = []
        var primaryKey: [String]?
        var id: IdStrategy?
        var sequenceShard: String?
        var shardBy: ShardBy?
        var relationships: [Relationship] = []
        /// `shard_by.parent` when it names another existing model, for the cycle check.
        var parent: String?
        var issues: [ConfigError.Issue] = []

        func column(_ name: String) -> Column? {
            columns.first { $0.name == name }
        }

        /// The single primary-key column, when the key is one valid column.
        var singleKeyColumn: Column? {
            guard let primaryKey, primaryKey.count == 1 else { return nil }
            return column(primaryKey[0])
        }

        /// `[a, b]` for messages.
        var primaryKeyText: String {
            "[" + (primaryKey ?? []).joined(separator: ", ") + "]"
        }
    }
}

extension ConfigLoader.Validator {
    typealias ModelDraft = ConfigLoader.ModelDraft

    static let modelKeys = ["table", "primary_key", "id", "sequence_shard", "shard_by", "columns", "relationships"]
    static let columnKeys = ["type", "nullable", "unique", "index", "default", "server_default", "on_update"]
    static let typeNames = ColumnType.allCases.map(\.rawValue).joined(separator: ", ")
    /// PostgreSQL truncates longer identifiers.
    static let maxIdentifierBytes = 63

    /// The models in file order; nil when any issue was found.
    mutating func models(_ value: TOMLValueConvertible?, shardNames: [String]) -> [Model]? {
        let path = ConfigPath("models")
        let example = "e.g. [models.Item.columns] id = \"int\""
        guard let value else {
            report(path, "missing: at least one model is required (\(example))")
            return nil
        }
        guard let table = table(value, at: path) else { return nil }
        let names = orderedKeys(table, at: path)
        guard !names.isEmpty else {
            report(path, "at least one model is required (\(example))")
            return nil
        }

        // Pass 1: each model on its own. Issues are kept per model so that the second pass
        // can add to them and the report stays in file order.
        var drafts: [ModelDraft] = []
        var tableOwners: [String: String] = [:]
        for name in names {
            guard let item = table[name] else { continue }
            var draft = ModelDraft(name: name, path: path.key(name))
            let found = collectingIssues { v in
                v.checkModel(&draft, item, shardNames: shardNames, tableOwners: &tableOwners)
            }
            draft.issues = found
            drafts.append(draft)
        }

        // Pass 2: what refers to other models.
        let byName = Dictionary(drafts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for i in drafts.indices {
            var draft = drafts[i]
            let more = collectingIssues { v in
                v.checkShardBy(&draft, models: byName, modelNames: names, shardNames: shardNames)
                v.checkRelationships(&draft, models: byName, modelNames: names)
            }
            draft.issues += more
            drafts[i] = draft
        }
        reportParentCycles(&drafts)

        for draft in drafts { issues += draft.issues }
        guard drafts.allSatisfy({ $0.issues.isEmpty }) else { return nil }
        return drafts.compactMap { draft -> Model? in
            guard let table = draft.table, let primaryKey = draft.primaryKey, let id = draft.id else { return nil }
            return Model(
                name: draft.name, table: table, columns: draft.columns, primaryKey: primaryKey, id: id,
                sequenceShard: draft.sequenceShard, shardBy: draft.shardBy, relationships: draft.relationships)
        }
    }

    // MARK: One model

    private mutating func checkModel(
        _ draft: inout ModelDraft, _ value: TOMLValueConvertible, shardNames: [String],
        tableOwners: inout [String: String]
    ) {
        let path = draft.path
        if !ConfigLoader.isIdentifier(draft.name) {
            report(path, "\(ConfigLoader.quoted(draft.name)) is not a valid model name (expected [A-Za-z_][A-Za-z0-9_]*)")
        }
        guard let table = table(value, at: path) else { return }
        draft.toml = table
        checkKeys(table, at: path, allowed: Self.modelKeys, in: "[models.\(draft.name)]")

        checkTable(&draft, table["table"], tableOwners: &tableOwners)
        checkColumns(&draft, table["columns"])
        checkPrimaryKey(&draft, table["primary_key"])
        checkId(&draft, table["id"])
        if let value = table["sequence_shard"] {
            let keyPath = path.key("sequence_shard")
            if let id = draft.id, id != .sequence {
                report(keyPath, "only with id = \"sequence\" (this model's id is \(ConfigLoader.quoted(id.rawValue)))")
            } else {
                draft.sequenceShard = shardReference(value, at: keyPath, shardNames: shardNames)
            }
        }
    }

    private mutating func checkTable(
        _ draft: inout ModelDraft, _ value: TOMLValueConvertible?, tableOwners: inout [String: String]
    ) {
        let keyPath = draft.path.key("table")
        let name: String
        let reportPath: ConfigPath
        let what: String
        if let value {
            guard let explicit = string(value, at: keyPath) else { return }
            name = explicit
            reportPath = keyPath
            what = ConfigLoader.quoted(name)
        } else {
            guard ConfigLoader.isIdentifier(draft.name) else { return }  // reported already
            name = ConfigLoader.snakeCase(draft.name)
            reportPath = draft.path
            what = "the default table name \(ConfigLoader.quoted(name))"
        }
        guard checkSQLName(name, at: reportPath, what: what, kind: "table name") else { return }
        let lowered = name.lowercased()
        if lowered.hasPrefix("shardd_") || lowered.hasPrefix("sqlite_") || lowered.hasPrefix("_shardd_") {
            report(reportPath, "\(what) is reserved (tables starting shardd_, _shardd_ or sqlite_ belong to shardd and SQLite); \(value == nil ? "set table = \"...\"" : "choose another name")")
            return
        }
        if let owner = tableOwners[lowered] {
            report(reportPath, "\(what) is already the table of model \(owner); each model needs its own table\(value == nil ? " (set table = \"...\")" : "")")
            return
        }
        tableOwners[lowered] = draft.name
        draft.table = name
    }

    /// An identifier of at most 63 bytes; false (and reported) otherwise.
    private mutating func checkSQLName(_ name: String, at path: ConfigPath, what: String, kind: String) -> Bool {
        guard ConfigLoader.isIdentifier(name) else {
            report(path, "\(what) is not a valid \(kind) (expected [A-Za-z_][A-Za-z0-9_]*)")
            return false
        }
        guard name.utf8.count <= Self.maxIdentifierBytes else {
            report(path, "\(what) is longer than \(Self.maxIdentifierBytes) bytes (PostgreSQL would truncate it)")
            return false
        }
        return true
    }

    // MARK: Columns

    private mutating func checkColumns(_ draft: inout ModelDraft, _ value: TOMLValueConvertible?) {
        let path = draft.path.key("columns")
        let example = "e.g. [models.\(draft.name).columns] id = \"int\""
        guard let value else {
            report(path, "missing: a model needs at least one column (\(example))")
            return
        }
        guard let table = table(value, at: path) else { return }
        let names = orderedKeys(table, at: path)
        guard !names.isEmpty else {
            report(path, "a model needs at least one column (\(example))")
            return
        }
        draft.declaredColumns = names
        var seen: [String: String] = [:]
        for name in names {
            guard let item = table[name] else { continue }
            let columnPath = path.key(name)
            let before = issues.count
            if checkSQLName(name, at: columnPath, what: ConfigLoader.quoted(name), kind: "column name") {
                if let other = seen[name.lowercased()] {
                    report(columnPath, "\(ConfigLoader.quoted(name)) and \(ConfigLoader.quoted(other)) differ only in case; SQL databases take them for the same column")
                } else {
                    seen[name.lowercased()] = name
                }
            }
            let column = self.column(name, item, at: columnPath)
            if let column, issues.count == before { draft.columns.append(column) }
        }
    }

    private mutating func column(_ name: String, _ value: TOMLValueConvertible, at path: ConfigPath) -> Column? {
        switch value.type {
        case .string:
            guard let type = columnType(value, at: path) else { return nil }
            return Column(name: name, type: type)
        case .table:
            guard let table = value.table else { return nil }
            checkKeys(table, at: path, allowed: Self.columnKeys, in: "a column")
            var column = Column(name: name, type: .int)
            var valid = true
            if let typeValue = table["type"] {
                if let type = columnType(typeValue, at: path.key("type")) { column.type = type } else { valid = false }
            } else {
                report(path, "missing type (types: \(Self.typeNames)), e.g. { type = \"text\", nullable = false }")
                valid = false
            }
            for key in ["nullable", "unique", "index"] {
                guard let flag = table[key] else { continue }
                guard let b = bool(flag, at: path.key(key)) else { valid = false; continue }
                switch key {
                case "nullable": column.nullable = b
                case "unique": column.unique = b
                default: column.index = b
                }
            }
            guard valid else { return nil }
            for key in ["default", "server_default"] {
                guard let given = table[key] else { continue }
                guard let value = columnDefault(given, for: column, at: path.key(key)) else { valid = false; continue }
                if key == "default" { column.defaultValue = value } else { column.serverDefault = value }
            }
            if let given = table["on_update"] {
                let keyPath = path.key("on_update")
                if let text = string(given, at: keyPath) {
                    if text != "now" {
                        report(keyPath, "\(ConfigLoader.quoted(text)) is not an on_update value: the only one is \"now\" (the daemon's clock at the update)")
                        valid = false
                    } else if column.type != .timestamp {
                        report(keyPath, "on_update = \"now\" needs a timestamp column; \(name) is \(column.type.rawValue)")
                        valid = false
                    } else {
                        column.onUpdateNow = true
                    }
                } else {
                    valid = false
                }
            }
            return valid ? column : nil
        default:
            report(path, "expected a type name such as \"text\" or a table { type = \"text\", nullable = false }, got \(ConfigLoader.describe(value.type))")
            return nil
        }
    }

    /// A `default` or `server_default`: a TOML value of the column's type, or `"now"` for a
    /// timestamp column.
    private mutating func columnDefault(_ value: TOMLValueConvertible, for column: Column, at path: ConfigPath) -> ColumnDefault? {
        let json: JSONValue
        switch value.type {
        case .string:
            let text = value.string ?? ""
            if text == "now" {
                if column.type == .timestamp { return .now }
                if column.type != .text {
                    report(path, "\"now\" is the clock, for timestamp columns only; \(column.name) is \(column.type.rawValue): give a literal \(column.type.rawValue) value")
                    return nil
                }
            }
            json = .string(text)
        case .int: json = .int(Int64(value.int ?? 0))
        case .double: json = .double(value.double ?? 0)
        case .bool: json = .bool(value.bool ?? false)
        default:
            report(path, "expected \(column.type == .int ? "an" : "a") \(column.type.rawValue) value\(column.type == .timestamp ? " (an RFC 3339 string, or \"now\")" : ""), got \(ConfigLoader.describe(value.type))")
            return nil
        }
        do {
            return .value(try ShardValue(json: json, for: column, nullable: false))
        } catch {
            let reason = error.message.hasPrefix("column \(column.name): ") ? String(error.message.dropFirst("column \(column.name): ".count)) : error.message
            report(path, "not \(column.type == .int ? "an" : "a") \(column.type.rawValue) value: \(reason)")
            return nil
        }
    }

    private mutating func columnType(_ value: TOMLValueConvertible, at path: ConfigPath) -> ColumnType? {
        guard let name = string(value, at: path) else { return nil }
        guard let type = ColumnType(rawValue: name) else {
            report(path, "\(ConfigLoader.quoted(name)) is not a column type (types: \(Self.typeNames))")
            return nil
        }
        return type
    }

    // MARK: Primary key and id

    private mutating func checkPrimaryKey(_ draft: inout ModelDraft, _ value: TOMLValueConvertible?) {
        let path = draft.path.key("primary_key")
        guard !draft.declaredColumns.isEmpty else { return }  // no columns: reported already
        let columnList = ConfigLoader.listing("columns", draft.declaredColumns)
        var key: [String] = []
        if let value {
            guard let array = array(value, at: path) else { return }
            guard !array.isEmpty else {
                report(path, "must name at least one column (\(columnList))")
                return
            }
            var valid = true
            for i in 0..<array.count {
                let itemPath = path.index(i)
                guard let name = string(array[i], at: itemPath) else { valid = false; continue }
                if !draft.declaredColumns.contains(name) {
                    report(itemPath, "\(ConfigLoader.quoted(name)) is not a column of \(draft.name) (\(columnList))")
                    valid = false
                } else if key.contains(name) {
                    report(itemPath, "\(ConfigLoader.quoted(name)) is listed twice")
                    valid = false
                }
                key.append(name)
            }
            guard valid else { return }
        } else {
            guard draft.declaredColumns.contains("id") else {
                report(path, "the default primary key [\"id\"] is not a column of \(draft.name) (\(columnList)); add an id column or set primary_key")
                return
            }
            key = ["id"]
        }
        // Key columns are never nullable.
        let columnsTable = draft.toml?["columns"]?.table
        for name in key {
            if let explicit = columnsTable?[name]?.table?["nullable"], explicit.bool == true {
                report(draft.path.key("columns").key(name).key("nullable"), "a primary-key column cannot be nullable (primary key: [\(key.joined(separator: ", "))])")
            }
            if let i = draft.columns.firstIndex(where: { $0.name == name }) {
                draft.columns[i].nullable = false
            }
        }
        draft.primaryKey = key
    }

    private mutating func checkId(_ draft: inout ModelDraft, _ value: TOMLValueConvertible?) {
        let path = draft.path.key("id")
        let keyColumn = draft.singleKeyColumn
        guard let value else {
            if draft.primaryKey != nil {
                draft.id = keyColumn?.type == .int ? .sequence : .client
            }
            return
        }
        guard let text = string(value, at: path) else { return }
        guard let id = IdStrategy(rawValue: text) else {
            let valid = IdStrategy.allCases.map { ConfigLoader.quoted($0.rawValue) }.joined(separator: ", ")
            report(path, "\(ConfigLoader.quoted(text)) is not an id strategy (valid: \(valid))")
            return
        }
        guard let primaryKey = draft.primaryKey else { return }  // reported already
        if id != .client {
            let keyTypes = primaryKey.map { name in draft.column(name).map { "\(name) \($0.type.rawValue)" } ?? name }
            if primaryKey.count != 1 {
                report(path, "\(ConfigLoader.quoted(text)) needs a single int primary-key column, but the primary key is [\(keyTypes.joined(separator: ", "))] (use id = \"client\")")
                return
            }
            if let keyColumn, keyColumn.type != .int {
                report(path, "\(ConfigLoader.quoted(text)) needs a single int primary-key column, but \(keyColumn.name) is \(keyColumn.type.rawValue) (use id = \"client\")")
                return
            }
            if keyColumn == nil { return }  // the column itself is broken: reported already
        }
        draft.id = id
    }
}
