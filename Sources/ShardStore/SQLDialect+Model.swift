import ShardCore
import ShardProtocol

/// The statements the daemon runs for a model's rows, with values always bound.
extension SQLDialect {
    /// `"c1", "c2", ...` in the model's column order.
    package func columnList(_ model: Model) -> String {
        model.columns.map { SQLDialect.quote($0.name) }.joined(separator: ", ")
    }

    /// `SELECT <every column> FROM <table>`.
    package func selectAll(_ model: Model) -> String {
        "SELECT \(columnList(model)) FROM \(SQLDialect.quote(model.table))"
    }

    /// `"pk1" = ? AND "pk2" = ?`, appending the key's values to `parameters`.
    package func keyCondition(_ model: Model, _ key: [ShardValue], parameters: inout [ShardValue]) -> String {
        zip(model.primaryKey, key).map { column, value in
            parameters.append(value)
            return "\(SQLDialect.quote(column)) = \(placeholder(parameters.count))"
        }.joined(separator: " AND ")
    }

    /// One row by primary key.
    package func selectByKey(_ model: Model, _ key: [ShardValue]) -> Statement {
        var parameters: [ShardValue] = []
        let condition = keyCondition(model, key, parameters: &parameters)
        return Statement("\(selectAll(model)) WHERE \(condition)", parameters, resultTypes: model.columns.map(\.type))
    }

    /// The row by key, locked until the transaction ends: `FOR UPDATE` on PostgreSQL; on
    /// SQLite the transaction's `BEGIN IMMEDIATE` holds the file's write lock already.
    package func selectForUpdate(_ model: Model, _ key: [ShardValue]) -> Statement {
        var statement = selectByKey(model, key)
        if backend == .postgres { statement.sql += " FOR UPDATE" }
        return statement
    }

    /// `INSERT` of the given columns, returning every column (so made keys come back).
    package func insert(_ model: Model, _ row: [(column: String, value: ShardValue)]) -> Statement {
        let table = SQLDialect.quote(model.table)
        let returning = " RETURNING \(columnList(model))"
        guard !row.isEmpty else {
            return Statement("INSERT INTO \(table) DEFAULT VALUES" + returning, resultTypes: model.columns.map(\.type))
        }
        let columns = row.map { SQLDialect.quote($0.column) }.joined(separator: ", ")
        let markers = (1...row.count).map(placeholder).joined(separator: ", ")
        return Statement("INSERT INTO \(table) (\(columns)) VALUES (\(markers))" + returning, row.map(\.value),
                         resultTypes: model.columns.map(\.type))
    }

    /// Multi-row `INSERT`s of `rows` (values in `columns` order), in chunks that stay below
    /// every backend's limit of bound parameters, each returning every column.
    package func insertMany(_ model: Model, columns: [String], rows: [[ShardValue]]) -> [Statement] {
        guard !columns.isEmpty else {
            return rows.map { _ in insert(model, []) }
        }
        let table = SQLDialect.quote(model.table)
        let names = columns.map(SQLDialect.quote).joined(separator: ", ")
        let returning = " RETURNING \(columnList(model))"
        let perStatement = max(1, 30_000 / columns.count)
        // SQLite's tuples are all alike (bare markers): built once, appended per row.
        let sqliteTuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        return stride(from: 0, to: rows.count, by: perStatement).map { start in
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            var parameters: [ShardValue] = []
            parameters.reserveCapacity(chunk.count * columns.count)
            var sql = "INSERT INTO \(table) (\(names)) VALUES "
            sql.reserveCapacity(sql.utf8.count + chunk.count * (columns.count * 8 + 4) + returning.utf8.count)
            for (position, row) in chunk.enumerated() {
                if position > 0 { sql += ", " }
                parameters.append(contentsOf: row)
                guard backend == .postgres else {
                    sql += sqliteTuple
                    continue
                }
                sql += "("
                for column in 0..<row.count {
                    if column > 0 { sql += ", " }
                    sql += sequentialPlaceholder(parameters.count - row.count + column + 1)
                }
                sql += ")"
            }
            return Statement(sql + returning, parameters, resultTypes: model.columns.map(\.type))
        }
    }

    /// `UPDATE` of one row by key, returning every column (no row: the key is gone).
    package func update(_ model: Model, key: [ShardValue], set values: [(column: String, value: Assignment)]) -> Statement {
        var parameters: [ShardValue] = []
        let assignments = assignments(values, parameters: &parameters)
        let condition = keyCondition(model, key, parameters: &parameters)
        return Statement("UPDATE \(SQLDialect.quote(model.table)) SET \(assignments) WHERE \(condition) RETURNING \(columnList(model))",
                         parameters, resultTypes: model.columns.map(\.type))
    }

    /// `DELETE` of one row by key.
    package func delete(_ model: Model, key: [ShardValue]) -> Statement {
        var parameters: [ShardValue] = []
        let condition = keyCondition(model, key, parameters: &parameters)
        return Statement("DELETE FROM \(SQLDialect.quote(model.table)) WHERE \(condition)", parameters)
    }
}
