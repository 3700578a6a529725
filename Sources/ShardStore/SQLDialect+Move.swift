import ShardCore
import ShardProtocol

/// The statements of a move (protocol.md 13, docs/moves.md).
///
/// On the source, a **change log** per table of the group (`_shardd_mlog_<table>`, filled by
/// triggers) records the key of every row written while the unit is copied: writes through
/// the daemon and raw SQL alike, and only once they commit. On the target, a **stage** table
/// per model (`_shardd_stage_<table>`) holds the copy, out of sight of every read, until the
/// switch moves it into the real table in the same atomic commit that deletes the source's rows.
extension SQLDialect {
    package static func logTable(_ model: Model) -> String { "_shardd_mlog_" + model.table }

    /// The model with its rows in the stage table.
    package static func stage(_ model: Model) -> Model {
        Model(name: model.name, table: "_shardd_stage_" + model.table, columns: model.columns, primaryKey: model.primaryKey,
              id: model.id, sequenceShard: model.sequenceShard, shardBy: model.shardBy, relationships: [])
    }

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

    /// The stage table, made anew and empty.
    package func createStage(_ model: Model) -> [String] {
        [dropStage(model), createStatements(for: SQLDialect.stage(model))[0]]
    }

    package func dropStage(_ model: Model) -> String {
        "DROP TABLE IF EXISTS \(SQLDialect.quote(SQLDialect.stage(model).table))"
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
        let chunk = max(1, SQLDialect.inListChunk / max(1, model.primaryKey.count))
        return stride(from: 0, to: keys.count, by: chunk).map { start in
            let part = keys[start..<min(start + chunk, keys.count)]
            var parameters: [ShardValue] = []
            let condition: String
            if model.primaryKey.count == 1 {
                parameters = part.map { $0[0] }
                condition = "\(SQLDialect.quote(model.primaryKey[0])) IN (" + (1...part.count).map(sequentialPlaceholder).joined(separator: ", ") + ")"
            } else {
                condition = part.map { key in "(" + keyCondition(model, key, parameters: &parameters) + ")" }.joined(separator: " OR ")
            }
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
        stride(from: 0, to: values.count, by: SQLDialect.inListChunk).map { start in
            let chunk = Array(values[start..<min(start + SQLDialect.inListChunk, values.count)])
            return Statement(selectAll(model) + " WHERE \(SQLDialect.quote(column)) IN (" + (1...chunk.count).map(sequentialPlaceholder).joined(separator: ", ") + ")",
                             chunk, resultTypes: model.columns.map(\.type))
        }
    }

    /// The staged rows into the real table.
    package func insertFromStage(_ model: Model) -> String {
        let columns = columnList(model)
        return "INSERT INTO \(SQLDialect.quote(model.table)) (\(columns)) SELECT \(columns) FROM \(SQLDialect.quote(SQLDialect.stage(model).table))"
    }

    /// The staged ids (of a single-column `shard_local` key) the real table already has.
    package func stagedIDsTaken(_ model: Model) -> Statement {
        let id = SQLDialect.quote(model.primaryKey[0])
        return Statement("SELECT s.\(id) FROM \(SQLDialect.quote(SQLDialect.stage(model).table)) s WHERE EXISTS (SELECT 1 FROM \(SQLDialect.quote(model.table)) r WHERE r.\(id) = s.\(id)) ORDER BY s.\(id)",
                         resultTypes: [.int])
    }

    /// The highest id the real table has handed out or holds, and the stage holds: new ids
    /// start above it.
    package func highestID(_ model: Model) -> Statement {
        let id = SQLDialect.quote(model.primaryKey[0]), table = SQLDialect.quote(model.table)
        let stage = SQLDialect.quote(SQLDialect.stage(model).table)
        let handedOut: String
        switch backend {
        case .sqlite: handedOut = "(SELECT seq FROM sqlite_sequence WHERE name = \(SQLDialect.literal(model.table)))"
        case .postgres: handedOut = "pg_sequence_last_value(pg_get_serial_sequence(\(SQLDialect.literal(table)), \(SQLDialect.literal(model.primaryKey[0])))::regclass)"
        }
        let max = backend == .sqlite ? "max" : "GREATEST"
        return Statement("SELECT \(max)(COALESCE((SELECT max(\(id)) FROM \(table)), 0), COALESCE((SELECT max(\(id)) FROM \(stage)), 0), COALESCE(\(handedOut), 0))",
                         resultTypes: [.int])
    }

    /// `column` of the stage's rows set from each pair's old value to its new one.
    package func renumberStage(_ model: Model, column: String, _ pairs: [(from: ShardValue, to: ShardValue)]) -> [Statement] {
        let quoted = SQLDialect.quote(column), stage = SQLDialect.quote(SQLDialect.stage(model).table)
        let chunk = SQLDialect.inListChunk / 3
        return stride(from: 0, to: pairs.count, by: chunk).map { start in
            let part = pairs[start..<min(start + chunk, pairs.count)]
            var parameters: [ShardValue] = []
            var cases = ""
            for pair in part {
                parameters += [pair.from, pair.to]
                cases += " WHEN \(sequentialPlaceholder(parameters.count - 1)) THEN \(sequentialPlaceholder(parameters.count))"
            }
            let list = part.map { pair -> String in
                parameters.append(pair.from)
                return sequentialPlaceholder(parameters.count)
            }.joined(separator: ", ")
            return Statement("UPDATE \(stage) SET \(quoted) = CASE \(quoted)\(cases) END WHERE \(quoted) IN (\(list))", parameters)
        }
    }

    /// PostgreSQL: the identity sequence of a `shard_local` key moved past the ids inserted
    /// with their values (a sequence does not see them); SQLite's AUTOINCREMENT does itself.
    package func advanceIdentity(_ model: Model) -> String? {
        guard backend == .postgres, model.id == .shardLocal, model.primaryKey.count == 1 else { return nil }
        let table = SQLDialect.quote(model.table), id = SQLDialect.quote(model.primaryKey[0])
        let sequence = "pg_get_serial_sequence(\(SQLDialect.literal(table)), \(SQLDialect.literal(model.primaryKey[0])))"
        return "SELECT setval(\(sequence), GREATEST(COALESCE((SELECT max(\(id)) FROM \(table)), 1), COALESCE(pg_sequence_last_value(\(sequence)::regclass), 1)))"
    }
}
