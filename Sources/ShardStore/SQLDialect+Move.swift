import ShardCore
import ShardProtocol

/// The statements of a move (protocol.md 13, docs/moves.md).
///
/// On the source, a **change log** per table of the group (`_shardd_mlog_<table>`, filled by
/// triggers) records the key of every row written while the unit is copied: writes through
/// the daemon and raw SQL alike, and only once they commit. On both shards, a **list** of the
/// unit's keys (`_shardd_rows_<table>`) and a **view** of the table without them
/// (`_shardd_visible_<table>`): the copy goes into the target's own tables, listed and hidden
/// from clients (`HiddenRows`) until the switch, which hides the source's listed rows instead.
extension SQLDialect {
    package static func logTable(_ model: Model) -> String { "_shardd_mlog_" + model.table }

    private func keyColumns(_ model: Model) -> String {
        model.primaryKey.map(SQLDialect.quote).joined(separator: ", ")
    }

    /// The change log and its triggers on `model`'s table, made anew.
    package func createChangeLog(_ model: Model) -> [String] {
        let log = SQLDialect.quote(SQLDialect.logTable(model)), table = SQLDialect.quote(model.table)
        let keys = keyColumns(model)
        let keyDefinitions = model.primaryKeyColumns.map { "\(SQLDialect.quote($0.name)) \(sqlType($0.type))" }.joined(separator: ", ")
        func values(_ row: String) -> String {
            "INSERT INTO \(log) (\(keys)) VALUES (" + model.primaryKey.map { "\(row).\(SQLDialect.quote($0))" }.joined(separator: ", ") + ");"
        }
        switch backend {
        case .sqlite:
            let name = SQLDialect.logTable(model)
            return dropChangeLog(model) + [
                "CREATE TABLE \(log) (seq INTEGER PRIMARY KEY AUTOINCREMENT, \(keyDefinitions))",
                "CREATE TRIGGER \(SQLDialect.quote(name + "_i")) AFTER INSERT ON \(table) BEGIN \(values("NEW")) END",
                "CREATE TRIGGER \(SQLDialect.quote(name + "_u")) AFTER UPDATE ON \(table) BEGIN \(values("OLD")) \(values("NEW")) END",
                "CREATE TRIGGER \(SQLDialect.quote(name + "_d")) AFTER DELETE ON \(table) BEGIN \(values("OLD")) END",
            ]
        case .postgres:
            return dropChangeLog(model) + [
                "CREATE TABLE \(log) (seq BIGSERIAL PRIMARY KEY, \(keyDefinitions))",
                "CREATE FUNCTION \(log)() RETURNS trigger LANGUAGE plpgsql AS $shardd$ BEGIN "
                    + "IF TG_OP <> 'INSERT' THEN \(values("OLD")) END IF; IF TG_OP <> 'DELETE' THEN \(values("NEW")) END IF; "
                    + "RETURN NULL; END $shardd$",
                "CREATE TRIGGER \(log) AFTER INSERT OR UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION \(log)()",
            ]
        }
    }

    /// Removes the change log and its triggers (nothing when there is none).
    package func dropChangeLog(_ model: Model) -> [String] {
        let name = SQLDialect.logTable(model), log = SQLDialect.quote(name), table = SQLDialect.quote(model.table)
        switch backend {
        case .sqlite:
            return ["_i", "_u", "_d"].map { "DROP TRIGGER IF EXISTS \(SQLDialect.quote(name + $0))" } + ["DROP TABLE IF EXISTS \(log)"]
        case .postgres:
            return ["DROP TRIGGER IF EXISTS \(log) ON \(table)", "DROP FUNCTION IF EXISTS \(log)()", "DROP TABLE IF EXISTS \(log)"]
        }
    }

    /// Up to `limit` entries of the change log after `seq`: `seq`, then the key.
    package func changeLogPage(_ model: Model, after seq: Int64, limit: Int) -> Statement {
        Statement("SELECT seq, \(keyColumns(model)) FROM \(SQLDialect.quote(SQLDialect.logTable(model))) WHERE seq > \(placeholder(1)) ORDER BY seq LIMIT \(placeholder(2))",
                  [.int(seq), .int(Int64(limit))], resultTypes: [.int] + model.primaryKeyColumns.map(\.type))
    }

    /// The key list of `model`'s table as a model of its own (its key columns only).
    package static func keyList(_ model: Model) -> Model {
        Model(name: model.name, table: VisibilityRewrite.Table(name: model.table, keyColumns: model.primaryKey).rowsTable,
              columns: model.primaryKeyColumns, primaryKey: model.primaryKey, id: .client, sequenceShard: nil, shardBy: nil, relationships: [])
    }

    /// What `HiddenRows` hides of `model`'s table.
    package static func hiddenTable(_ model: Model) -> VisibilityRewrite.Table {
        VisibilityRewrite.Table(name: model.table, keyColumns: model.primaryKey)
    }

    /// An empty key list and the view of the table without the listed rows, made anew.
    package func createKeyList(_ model: Model) -> [String] {
        let table = SQLDialect.hiddenTable(model)
        return dropKeyList(model) + [
            createStatements(for: SQLDialect.keyList(model))[0],
            "CREATE VIEW \(SQLDialect.quote(table.view)) AS SELECT * FROM \(SQLDialect.quote(model.table)) WHERE \(table.notListed(SQLDialect.quote(model.table)))",
        ]
    }

    package func dropKeyList(_ model: Model) -> [String] {
        let table = SQLDialect.hiddenTable(model)
        return ["DROP VIEW IF EXISTS \(SQLDialect.quote(table.view))", "DROP TABLE IF EXISTS \(SQLDialect.quote(table.rowsTable))"]
    }

    /// Up to `limit` listed keys, in key order.
    package func listedKeys(_ model: Model, limit: Int) -> Statement {
        let list = SQLDialect.keyList(model)
        return Statement(selectAll(list) + " ORDER BY " + model.primaryKey.map(SQLDialect.quote).joined(separator: ", ") + " LIMIT \(limit)",
                         resultTypes: list.columns.map(\.type))
    }

    /// How many keys are listed.
    package func listedCount(_ model: Model) -> Statement {
        Statement("SELECT count(*) FROM \(SQLDialect.quote(SQLDialect.keyList(model).table))", resultTypes: [.int])
    }

    /// A page of `model`'s rows in key order, where `condition` (SQL with `parameters`) holds.
    package func rowPage(_ model: Model, condition: (sql: String, parameters: [ShardValue])?, after: [ShardValue]?, limit: Int) -> Statement {
        var parameters = condition?.parameters ?? []
        var clauses = condition.map { [$0.sql] } ?? []
        let key = model.primaryKey.map(SQLDialect.quote)
        if let after {
            parameters += after
            let markers = (parameters.count - after.count + 1...parameters.count).map(placeholder).joined(separator: ", ")
            clauses.append(key.count == 1 ? "\(key[0]) > \(markers)" : "(\(key.joined(separator: ", "))) > (\(markers))")
        }
        parameters.append(.int(Int64(limit)))
        let filter = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        return Statement(selectAll(model) + filter + " ORDER BY \(key.joined(separator: ", ")) LIMIT \(placeholder(parameters.count))",
                         parameters, resultTypes: model.columns.map(\.type))
    }

    /// `column = v`, or `column >= lo AND column < hi`: the SQL of a map value's or a range's
    /// rows (nil for a bucket or a key, which the daemon picks by itself).
    package func unitCondition(_ unit: PlacementUnit, column: String) -> (sql: String, parameters: [ShardValue])? {
        let quoted = SQLDialect.quote(column)
        switch unit {
        case .value(let value): return ("\(quoted) = \(placeholder(1))", [value])
        case .range(let lower, let upper): return ("\(quoted) >= \(placeholder(1)) AND \(quoted) < \(placeholder(2))", [lower, upper])
        case .bucket, .key: return nil
        }
    }

    /// `WHERE (key) IN (...)` in chunks, for `select` or `delete` of rows by key.
    private func byKeys(_ model: Model, _ keys: [[ShardValue]], _ prefix: String, resultTypes: [ColumnType]?) -> [Statement] {
        if model.primaryKey.count == 1 {
            return inLists(keys.map { $0[0] }) { markers in prefix + " WHERE \(SQLDialect.quote(model.primaryKey[0])) IN (\(markers))" }
                .map { Statement($0.sql, $0.values, resultTypes: resultTypes) }
        }
        let chunk = max(1, SQLDialect.inListChunk / model.primaryKey.count)
        return stride(from: 0, to: keys.count, by: chunk).map { start in
            var parameters: [ShardValue] = []
            let condition = keys[start..<min(start + chunk, keys.count)]
                .map { key in "(" + keyCondition(model, key, parameters: &parameters) + ")" }.joined(separator: " OR ")
            return Statement(prefix + " WHERE " + condition, parameters, resultTypes: resultTypes)
        }
    }

    /// The rows of `keys` that exist.
    package func rows(_ model: Model, keys: [[ShardValue]]) -> [Statement] {
        byKeys(model, keys, selectAll(model), resultTypes: model.columns.map(\.type))
    }

    /// Deletes the rows of `keys`.
    package func deleteRows(_ model: Model, keys: [[ShardValue]]) -> [Statement] {
        byKeys(model, keys, "DELETE FROM \(SQLDialect.quote(model.table))", resultTypes: nil)
    }

    /// The rows of `model` whose `column` is one of `values`, in chunks.
    package func rows(_ model: Model, where column: String, in values: [ShardValue]) -> [Statement] {
        inLists(values) { markers in selectAll(model) + " WHERE \(SQLDialect.quote(column)) IN (\(markers))" }
            .map { Statement($0.sql, $0.values, resultTypes: model.columns.map(\.type)) }
    }

    /// The highest id the table holds or has handed out: new ids start above it (SQLite, whose
    /// writer holds the lock until the rows are in).
    package func highestID(_ model: Model) -> Statement {
        let id = SQLDialect.quote(model.primaryKey[0]), table = SQLDialect.quote(model.table)
        return Statement("SELECT max(COALESCE((SELECT max(\(id)) FROM \(table)), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = \(SQLDialect.literal(model.table))), 0))",
                         resultTypes: [.int])
    }

    private func identitySequence(_ model: Model) -> String {
        "pg_get_serial_sequence(\(SQLDialect.literal(SQLDialect.quote(model.table))), \(SQLDialect.literal(model.primaryKey[0])))"
    }

    /// PostgreSQL: `count` new ids from the key's identity sequence (concurrent inserts take
    /// others).
    package func nextIDs(_ model: Model, count: Int) -> Statement {
        Statement("SELECT nextval(\(identitySequence(model))) FROM generate_series(1, \(count))", resultTypes: [.int])
    }

    /// PostgreSQL: the identity sequence moved up to at least `id`, so that inserts of other
    /// rows never take an id a moved row keeps.
    package func reserveIDs(_ model: Model, upTo id: Int64) -> String {
        let sequence = identitySequence(model)
        return "SELECT setval(\(sequence), GREATEST(\(id), COALESCE(pg_sequence_last_value(\(sequence)::regclass), 1)))"
    }
}
