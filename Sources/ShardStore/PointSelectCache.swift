import ShardCore
import ShardProtocol
import Synchronization

/// The `SELECT … WHERE <primary key>` text of each model, built once per shard: a get by
/// key is the hottest statement, and building its SQL cost more than SQLite running it.
package final class PointSelectCache: Sendable {
    private struct Entry {
        var table: String
        var primaryKey: [String]
        var columnCount: Int
        var sql: String
        var resultTypes: [ColumnType]
    }

    private let dialect: SQLDialect
    private let entries = Mutex<[String: Entry]>([:])

    package init(dialect: SQLDialect) {
        self.dialect = dialect
    }

    /// The statement reading `model`'s row with this primary key.
    package func statement(_ model: Model, _ key: [ShardValue]) -> Statement {
        let cached = entries.withLock { $0[model.name] }
        // Checked against the model so that another model of the same name (a test's second
        // configuration) never gets this one's text.
        if let cached, cached.table == model.table, cached.columnCount == model.columns.count, cached.primaryKey == model.primaryKey {
            return Statement(cached.sql, Array(key.prefix(cached.primaryKey.count)), resultTypes: cached.resultTypes)
        }
        let built = dialect.selectByKey(model, key)
        let entry = Entry(table: model.table, primaryKey: model.primaryKey, columnCount: model.columns.count,
                          sql: built.sql, resultTypes: built.resultTypes ?? [])
        entries.withLock { $0[model.name] = entry }
        return built
    }
}
