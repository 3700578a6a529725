import ShardCore

/// One parameterised statement. Values are always bound, never spliced into the SQL.
package struct Statement: Sendable, Hashable {
    package var sql: String
    package var params: [Value]
    /// How to decode each result column. nil decodes by what the backend reports
    /// (raw SQL); a backend cannot tell a bool or a timestamp from an int without it.
    package var resultTypes: [ColumnType]?

    package init(_ sql: String, _ params: [Value] = [], resultTypes: [ColumnType]? = nil) {
        self.sql = sql
        self.params = params
        self.resultTypes = resultTypes
    }
}

/// The rows a statement returned, already decoded to `Value`s.
package struct QueryResult: Sendable, Equatable {
    package var columns: [String]
    package var rows: [[Value]]
    /// Rows inserted, updated or deleted, for statements that change rows.
    package var rowsAffected: Int

    package init(columns: [String] = [], rows: [[Value]] = [], rowsAffected: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.rowsAffected = rowsAffected
    }
}
