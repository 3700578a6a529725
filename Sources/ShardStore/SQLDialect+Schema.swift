import ShardCore
import ShardProtocol

/// The DDL of "Changing the schema" (config.md) and the catalog queries that `SchemaDrift`
/// compares with the models.
extension SQLDialect: SchemaDialect {
    package var addsClockDefaultsToExistingTables: Bool { backend == .postgres }

    package func statements(for change: SchemaChange) -> [String] {
        switch change {
        case .createTable(let model): createStatements(for: model)
        case .addColumn(let column, let model): [addColumn(column, to: model)]
        case .createIndex(let column, let model): [createIndex(column, of: model)]
        case .createUniqueIndex(let column, let model): [createUniqueIndex(column, of: model)]
        }
    }

    /// SQLite's clock as the microseconds a timestamp column stores. `julianday('now')` holds
    /// milliseconds; rounded to them so that the stored value is exact.
    static let sqliteNow = "(CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000)"

    /// A `server_default` as SQL for a column of `type`.
    package func defaultSQL(_ value: ColumnDefault, type: ColumnType) -> String {
        switch (backend, value) {
        case (.sqlite, .now): return SQLDialect.sqliteNow
        case (.postgres, .now): return "now()"
        case (_, .value(let value)):
            switch value {
            case .null: return "NULL"
            case .int(let i): return String(i)
            case .real(let d): return String(d)
            case .text(let s): return SQLDialect.literal(s)
            case .bool(let b): return backend == .sqlite ? (b ? "1" : "0") : (b ? "true" : "false")
            case .timestamp(let t):
                return backend == .sqlite ? String(t.microseconds) : SQLDialect.literal(t.description) + "::timestamptz"
            }
        }
    }

    /// A string literal, quotes doubled (for DDL, which takes no bound parameters).
    static func literal(_ text: String) -> String {
        "'" + text.replacing("'", with: "''") + "'"
    }

    /// A column's type, nullability, default and check, as in `CREATE TABLE` and `ADD COLUMN`
    /// (without the name, the key and `UNIQUE`).
    func columnType(_ column: Column, notNull: Bool) -> String {
        var def = sqlType(column.type)
        if notNull { def += " NOT NULL" }
        if let value = column.serverDefault { def += " DEFAULT " + defaultSQL(value, type: column.type) }
        if backend == .sqlite && column.type == .bool {
            def += " CHECK (\(SQLDialect.quote(column.name)) IN (0, 1))"
        }
        return def
    }

    /// `ALTER TABLE ... ADD COLUMN` for a column new to a model's table. A `unique` is made
    /// by `createUniqueIndex` (SQLite cannot add a UNIQUE column).
    package func addColumn(_ column: Column, to model: Model) -> String {
        "ALTER TABLE \(SQLDialect.quote(model.table)) ADD COLUMN \(SQLDialect.quote(column.name)) "
            + columnType(column, notNull: !column.nullable)
    }

    /// The index of `index = true`, in the order `orderTerm` asks for (nulls smallest):
    /// PostgreSQL's default puts nulls last, and an index in the other order cannot serve an
    /// ORDER BY … LIMIT.
    package func createIndex(_ column: Column, of model: Model) -> String {
        let index = SQLDialect.quote("\(model.table)_\(column.name)_idx")
        let nulls = backend == .postgres ? " NULLS FIRST" : ""
        return "CREATE INDEX IF NOT EXISTS \(index) ON \(SQLDialect.quote(model.table)) (\(SQLDialect.quote(column.name))\(nulls))"
    }

    /// The index of a `unique = true` added to an existing table.
    package func createUniqueIndex(_ column: Column, of model: Model) -> String {
        let index = SQLDialect.quote("\(model.table)_\(column.name)_key")
        return "CREATE UNIQUE INDEX IF NOT EXISTS \(index) ON \(SQLDialect.quote(model.table)) (\(SQLDialect.quote(column.name)))"
    }

    /// What the catalog reports as the type of a column made of `type` (compared
    /// case-insensitively): SQLite's declared type, PostgreSQL's `data_type`.
    package func catalogType(_ type: ColumnType) -> String {
        switch (backend, type) {
        case (.sqlite, _): sqlType(type)
        case (.postgres, .int): "bigint"
        case (.postgres, .real): "double precision"
        case (.postgres, .text): "text"
        case (.postgres, .bool): "boolean"
        case (.postgres, .timestamp): "timestamp with time zone"
        }
    }

    /// The `server_default` a catalog's default expression stands for; nil when it is none
    /// of the forms `defaultSQL` writes or PostgreSQL gives back for them (`'-5'::bigint`,
    /// `'x'::text`, `now()`, `'2026-01-01 00:00:00+00'::timestamp with time zone`).
    package func parseDefault(_ sql: String, type: ColumnType) -> ColumnDefault? {
        var text = Substring(sql).trimmingSpaces
        func unwrap() {
            while text.hasPrefix("("), text.hasSuffix(")"), SQLDialect.balanced(text.dropFirst().dropLast()) {
                text = text.dropFirst().dropLast().trimmingSpaces
            }
        }
        unwrap()
        if backend == .sqlite, "(" + text + ")" == SQLDialect.sqliteNow || String(text) == SQLDialect.sqliteNow { return .now }
        if backend == .postgres, ["now()", "current_timestamp", "transaction_timestamp()"].contains(text.lowercased()) {
            return type == .timestamp ? .now : nil
        }
        // PostgreSQL's casts: `::bigint`, `::timestamp with time zone`, `::text`.
        while let cast = SQLDialect.lastCast(text) {
            text = text[..<cast].trimmingSpaces
            unwrap()
        }
        let quoted = text.count >= 2 && text.hasPrefix("'") && text.hasSuffix("'")
        let body = quoted ? String(text.dropFirst().dropLast()).replacing("''", with: "'") : String(text)
        switch type {
        case .text:
            return quoted ? .value(.text(body)) : nil
        case .int:
            return Int64(body).map { .value(.int($0)) }
        case .real:
            return Double(body).map { .value(.real($0)) }
        case .bool:
            switch body.lowercased() {
            case "1", "true": return .value(.bool(true))
            case "0", "false": return .value(.bool(false))
            default: return nil
            }
        case .timestamp:
            if backend == .sqlite { return Int64(body).map { .value(.timestamp(Timestamp(microseconds: $0))) } }
            if let t = Timestamp(postgresText: body, hasZone: true) { return .value(.timestamp(t)) }
            return (try? Timestamp(rfc3339: body)).map { .value(.timestamp($0)) }
        }
    }

    /// Where a trailing `::type` begins (none inside a quoted literal).
    private static func lastCast(_ text: Substring) -> Substring.Index? {
        var index = text.endIndex
        while index > text.startIndex {
            index = text.index(before: index)
            if text[index] == "'" { return nil }
            if text[index] == ":", index > text.startIndex, text[text.index(before: index)] == ":" {
                return text.index(before: index)
            }
        }
        return nil
    }

    private static func balanced(_ text: Substring) -> Bool {
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1; if depth < 0 { return false } }
        }
        return depth == 0
    }

    // MARK: - Catalog queries (parameter 1: the table name)

    /// One row if the table exists.
    var tableExists: String {
        switch backend {
        case .sqlite: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1"
        case .postgres: "SELECT 1 FROM pg_class WHERE oid = to_regclass(quote_ident($1)) AND relkind IN ('r', 'p')"
        }
    }

    /// Rows of (name, type, not null 0/1, default text or null, primary-key position), in column order.
    var tableColumns: String {
        switch backend {
        case .sqlite:
            return "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_xinfo(?1) WHERE hidden = 0 ORDER BY cid"
        case .postgres:
            return """
                SELECT c.column_name::text, c.data_type::text, CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END,
                       c.column_default::text,
                       COALESCE((SELECT k.n FROM pg_index i
                                 CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                 WHERE i.indrelid = to_regclass(quote_ident($1)) AND i.indisprimary
                                   AND a.attname = c.column_name), 0)
                FROM information_schema.columns c
                WHERE c.table_schema = current_schema() AND c.table_name = $1
                ORDER BY c.ordinal_position
                """
        }
    }

    /// Rows of (index name, unique 0/1, column names joined by ","), primary key's excluded.
    var tableIndexes: String {
        switch backend {
        case .sqlite:
            return """
                SELECT l.name, l."unique", (SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
                FROM pragma_index_list(?1) l WHERE l.origin <> 'pk' ORDER BY l.name
                """
        case .postgres:
            return """
                SELECT ic.relname::text, CASE WHEN i.indisunique THEN 1 ELSE 0 END,
                       array_to_string(ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                                             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                                             ORDER BY k.n), ',')
                FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                WHERE i.indrelid = to_regclass(quote_ident($1)) AND NOT i.indisprimary
                ORDER BY ic.relname
                """
        }
    }

    /// One value that two rows of the table share in `column`, if any (a `unique` to add).
    package func duplicateValue(_ column: Column, of model: Model) -> Statement {
        let name = SQLDialect.quote(column.name)
        return Statement("SELECT \(name) FROM \(SQLDialect.quote(model.table)) WHERE \(name) IS NOT NULL GROUP BY \(name) HAVING count(*) > 1 ORDER BY \(name) LIMIT 1",
                         resultTypes: [column.type])
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }
}
