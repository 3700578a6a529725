import Foundation
import Synchronization

/// The rows of a shard that clients must not see: a moving unit's copy on its target before
/// the switch, and its rows left on the source after it, until they are deleted (docs/moves.md).
/// Each such table has a list of the hidden keys (`_shardd_rows_<table>`) and a view of the
/// rest (`_shardd_visible_<table>`); the statements clients run through the shard's counted
/// connections are rewritten to read the view and to leave the listed rows alone
/// (`VisibilityRewrite`). With no hidden table, a statement costs one atomic load more.
package final class HiddenRows: Sendable {
    private let tables = Mutex<[String: VisibilityRewrite.Table]>([:])
    private let count = Atomic<Int>(0)

    package init() {}

    /// Hides the listed rows of `table` from now on.
    package func hide(_ table: VisibilityRewrite.Table) {
        let total = tables.withLock { tables in
            tables[table.name] = table
            return tables.count
        }
        count.store(total, ordering: .releasing)
    }

    /// Shows `table` whole again.
    package func show(_ name: String) {
        let total = tables.withLock { tables in
            tables[name] = nil
            return tables.count
        }
        count.store(total, ordering: .releasing)
    }

    package var hidden: [String] {
        tables.withLock { Array($0.keys).sorted() }
    }

    /// `statement` as clients may run it now (for the daemon's own uncounted reads of client rows).
    package func rewriting(_ statement: Statement) -> Statement {
        var out = statement
        out.sql = rewrite(statement.sql)
        return out
    }

    /// `sql` as clients may run it now.
    @inline(__always)
    package func rewrite(_ sql: String) -> String {
        guard count.load(ordering: .acquiring) > 0 else { return sql }
        let current = tables.withLock { Array($0.values) }
        return VisibilityRewrite(tables: current).rewrite(sql)
    }
}

/// Rewrites the daemon's own statement shapes (identifiers double-quoted, values always bound,
/// never inlined) so that listed rows of some tables are invisible: `FROM "t"` and `JOIN "t"`
/// read the table's view instead (keeping `"t"` or the statement's alias as the name), and
/// `UPDATE "t" ... WHERE c` / `DELETE FROM "t" WHERE c` get `NOT EXISTS (listed) AND (c)`.
/// Pure, so that it is tested on the statements themselves.
package struct VisibilityRewrite: Sendable {
    package struct Table: Sendable, Equatable {
        package var name: String
        package var keyColumns: [String]
        package init(name: String, keyColumns: [String]) {
            self.name = name
            self.keyColumns = keyColumns
        }

        package var rowsTable: String { "_shardd_rows_" + name }
        package var view: String { "_shardd_visible_" + name }

        /// `NOT EXISTS (SELECT 1 FROM "_shardd_rows_t" h WHERE h."k" = <row>."k")`.
        package func notListed(_ row: String) -> String {
            "NOT EXISTS (SELECT 1 FROM \(Self.quote(rowsTable)) h WHERE "
                + keyColumns.map { "h.\(Self.quote($0)) = \(row).\(Self.quote($0))" }.joined(separator: " AND ") + ")"
        }

        static func quote(_ identifier: String) -> String {
            "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
    }

    package var tables: [Table]

    package init(tables: [Table]) {
        self.tables = tables
    }

    static let keywords: Set<String> = ["where", "order", "group", "limit", "join", "on", "returning", "inner", "left",
                                        "union", "as", "set", "having", "offset", "for", "cross", "natural", "using"]

    package func rewrite(_ sql: String) -> String {
        var out = sql
        for table in tables {
            let quoted = Table.quote(table.name)
            var skip = 0
            if out.hasPrefix("UPDATE \(quoted) ") {
                out = Self.restrict(out, by: table.notListed(quoted))
                skip = "UPDATE \(quoted)".count
            } else if out.hasPrefix("DELETE FROM \(quoted)") {
                out = Self.restrict(out, by: table.notListed(quoted))
                skip = "DELETE FROM \(quoted)".count
            }
            out = Self.readView(out, table: table, after: skip)
        }
        return out
    }

    /// `... WHERE c ... RETURNING r` as `... WHERE filter AND (c) RETURNING r` (no WHERE:
    /// `WHERE filter` before RETURNING or at the end).
    static func restrict(_ sql: String, by filter: String) -> String {
        let returning = sql.range(of: " RETURNING ", options: .backwards)
        let end = returning?.lowerBound ?? sql.endIndex
        if let whereRange = sql.range(of: " WHERE ", range: sql.startIndex..<end) {
            return String(sql[..<whereRange.upperBound]) + filter + " AND (" + String(sql[whereRange.upperBound..<end]) + ")"
                + String(sql[end...])
        }
        return String(sql[..<end]) + " WHERE " + filter + String(sql[end...])
    }

    /// Every `FROM "t"` / `JOIN "t"` after `start` characters, reading the view under the
    /// same name (or the alias that follows).
    static func readView(_ sql: String, table: Table, after start: Int) -> String {
        let quoted = Table.quote(table.name), view = Table.quote(table.view)
        var out = ""
        var rest = Substring(sql)
        out += rest.prefix(start)
        rest = rest.dropFirst(start)
        while let hit = Self.nextReference(in: rest, to: quoted) {
            out += rest[..<hit.tableStart]
            let after = rest[hit.tableEnd...]
            // With an alias, the view takes it; without, the table's own name.
            out += Self.hasAlias(after) ? view : view + " AS " + quoted
            rest = after
        }
        out += rest
        return out
    }

    /// The next `FROM "t"` or `JOIN "t"` not followed by more of an identifier.
    private static func nextReference(in text: Substring, to quoted: String) -> (tableStart: Substring.Index, tableEnd: Substring.Index)? {
        var search = text.startIndex
        while search < text.endIndex, let range = text.range(of: quoted, range: search..<text.endIndex) {
            search = range.upperBound
            let before = text[text.startIndex..<range.lowerBound]
            guard before.hasSuffix("FROM ") || before.hasSuffix("JOIN ") else { continue }
            if range.upperBound < text.endIndex, text[range.upperBound] == "." { continue }
            return (range.lowerBound, range.upperBound)
        }
        return nil
    }

    /// Whether an alias follows a table reference (` t0`).
    private static func hasAlias(_ text: Substring) -> Bool {
        guard text.first == " " else { return false }
        let word = text.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard let first = word.first, first.isLetter || first == "_" else { return false }
        return !keywords.contains(word.lowercased())
    }
}
