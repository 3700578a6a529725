import ShardProtocol

/// One table as a shard's catalog describes it (SQLite `pragma_table_xinfo` and
/// `pragma_index_list`; PostgreSQL `information_schema.columns` and `pg_index`): what
/// `SchemaDrift` compares with the models.
package struct TableCatalog: Sendable, Equatable {
    package struct Column: Sendable, Equatable {
        package var name: String
        /// The type as the catalog spells it (SQLite `INTEGER`, PostgreSQL `bigint`).
        package var type: String
        package var notNull: Bool
        /// The SQL default expression as the catalog gives it; nil: none.
        package var defaultSQL: String?
        /// 1-based position in the primary key; 0: not in it.
        package var primaryKeyPosition: Int

        package init(name: String, type: String, notNull: Bool, defaultSQL: String? = nil, primaryKeyPosition: Int = 0) {
            self.name = name
            self.type = type
            self.notNull = notNull
            self.defaultSQL = defaultSQL
            self.primaryKeyPosition = primaryKeyPosition
        }
    }

    /// An index other than the primary key's.
    package struct Index: Sendable, Equatable {
        package var name: String
        package var columns: [String]
        package var unique: Bool

        package init(name: String, columns: [String], unique: Bool) {
            self.name = name
            self.columns = columns
            self.unique = unique
        }
    }

    package var table: String
    /// In the table's column order.
    package var columns: [Column]
    package var indexes: [Index]

    package init(table: String, columns: [Column], indexes: [Index]) {
        self.table = table
        self.columns = columns
        self.indexes = indexes
    }

    package func column(named name: String) -> Column? {
        columns.first { $0.name == name }
    }

    /// The primary key's columns, in key order.
    package var primaryKey: [String] {
        columns.filter { $0.primaryKeyPosition > 0 }.sorted { $0.primaryKeyPosition < $1.primaryKeyPosition }.map(\.name)
    }

    /// Whether a unique index holds `column` alone (what `unique = true` asks for).
    package func isUnique(_ column: String) -> Bool {
        indexes.contains { $0.unique && $0.columns == [column] }
    }

    /// Whether an index starts with `column` (enough for `index = true`).
    package func isIndexed(_ column: String) -> Bool {
        indexes.contains { $0.columns.first == column }
    }
}
