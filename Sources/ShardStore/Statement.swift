import ShardCore
import ShardProtocol

/// One parameterised statement. Values are always bound, never spliced into the SQL.
package struct Statement: Sendable, Hashable {
    package var sql: String
    package var params: [ShardValue]
    /// How to decode each result column. nil decodes by what the backend reports
    /// (raw SQL); a backend cannot tell a bool or a timestamp from an int without it.
    package var resultTypes: [ColumnType]?

    package init(_ sql: String, _ params: [ShardValue] = [], resultTypes: [ColumnType]? = nil) {
        self.sql = sql
        self.params = params
        self.resultTypes = resultTypes
    }
}

extension Statement {
    /// The parameters as a backend stores them. Non-finite doubles are refused (SQLite would
    /// store NaN as NULL, PostgreSQL would keep it: neither fits the one value model), and
    /// -0.0 becomes 0.0 because SQLite cannot keep the sign of zero.
    package func storableParams(shard: String) throws(BackendError) -> [ShardValue] {
        var params = self.params
        for (index, value) in params.enumerated() {
            guard case .real(let d) = value else { continue }
            if !d.isFinite {
                throw BackendError(.unstorable, shard: shard, "parameter \(index + 1): \(d) is not a finite number", sql: sql)
            }
            if d == 0 && d.sign == .minus { params[index] = .real(0) }
        }
        return params
    }
}

/// The rows a statement returned, already decoded to `ShardValue`s.
package struct QueryResult: Sendable, Equatable {
    package var columns: [String]
    package var rows: [[ShardValue]]
    /// Rows inserted, updated or deleted, for statements that change rows.
    package var rowsAffected: Int

    package init(columns: [String] = [], rows: [[ShardValue]] = [], rowsAffected: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.rowsAffected = rowsAffected
    }
}
