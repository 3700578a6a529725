import ShardProtocol

/// An additive change of "Changing the schema" (config.md), as `SchemaDrift` plans it.
package enum SchemaChange: Sendable, Equatable {
    /// A model's table and its indexes.
    case createTable(Model)
    /// A column new to a model's table (its unique index is a change of its own).
    case addColumn(Column, Model)
    case createIndex(Column, Model)
    case createUniqueIndex(Column, Model)
}

/// What `SchemaDrift` needs of a backend: how its catalog spells types and defaults, what
/// its DDL can do, and the statements of each change (ShardStore's `SQLDialect`).
package protocol SchemaDialect: Sendable {
    /// The type the catalog reports for a column made of `type` (compared case-insensitively).
    func catalogType(_ type: ColumnType) -> String
    /// The `server_default` a catalog's default expression stands for; nil when unknown.
    func parseDefault(_ sql: String, type: ColumnType) -> ColumnDefault?
    /// Whether `ADD COLUMN` takes `server_default = "now"` (PostgreSQL does, SQLite does not).
    var addsClockDefaultsToExistingTables: Bool { get }
    /// The DDL of one change, in order.
    func statements(for change: SchemaChange) -> [String]
}
