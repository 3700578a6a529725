import ShardCore
import ShardProtocol

/// The statements over the rows a `where` matches, and the `IN` lists of eager loads: the
/// SQL of `query`, `count`, `update_where`, `delete_where`, `load` and `include`.
extension SQLDialect {
    /// How many values one `IN` list binds: well below every backend's limit of parameters.
    package static let inListChunk = 1000

    /// A statement that only checks that the shard answers (health probes, `shards`).
    package static let probe = Statement("SELECT 1")

    /// Every column of the rows matching `filter`, in `order` (complete it with a tiebreak
    /// for a total order), at most `limit`.
    package func select(_ model: Model, where filter: Expression?, orderBy order: [SortKey], limit: Int) -> Statement {
        var parameters: [ShardValue] = []
        var sql = selectAll(model)
        if let filter { sql += " WHERE " + whereClause(filter, model: model, parameters: &parameters) }
        if !order.isEmpty { sql += " ORDER BY " + orderByClause(order) }
        sql += " LIMIT \(limit)"
        return Statement(sql, parameters, resultTypes: model.columns.map(\.type))
    }

    /// Every column of the rows matching `filter`, locked for the transaction as by
    /// `selectForUpdate`: the rows an `update_where` is about to change, as they were.
    package func selectLocked(_ model: Model, where filter: Expression?) -> Statement {
        var parameters: [ShardValue] = []
        var sql = selectAll(model)
        if let filter { sql += " WHERE " + whereClause(filter, model: model, parameters: &parameters) }
        if backend == .postgres { sql += " FOR UPDATE" }
        return Statement(sql, parameters, resultTypes: model.columns.map(\.type))
    }

    /// `count(*)` of the rows matching `filter`.
    package func count(_ model: Model, where filter: Expression?) -> Statement {
        var parameters: [ShardValue] = []
        var sql = "SELECT count(*) FROM \(SQLDialect.quote(model.table))"
        if let filter { sql += " WHERE " + whereClause(filter, model: model, parameters: &parameters) }
        return Statement(sql, parameters, resultTypes: [.int])
    }

    /// `UPDATE` of the rows matching `filter`; with `returningRows`, the changed rows come
    /// back whole (as the shard computed them).
    package func updateWhere(_ model: Model, set changes: [(column: String, value: Assignment)], where filter: Expression?, returningRows: Bool) -> Statement {
        var parameters: [ShardValue] = []
        var sql = "UPDATE \(SQLDialect.quote(model.table)) SET \(assignments(changes, parameters: &parameters))"
        if let filter { sql += " WHERE " + whereClause(filter, model: model, parameters: &parameters) }
        return returning(model, sql, parameters, returningRows)
    }

    /// `DELETE` of the rows matching `filter`; with `returningRows`, the deleted rows come back whole.
    package func deleteWhere(_ model: Model, where filter: Expression?, returningRows: Bool) -> Statement {
        var parameters: [ShardValue] = []
        var sql = "DELETE FROM \(SQLDialect.quote(model.table))"
        if let filter { sql += " WHERE " + whereClause(filter, model: model, parameters: &parameters) }
        return returning(model, sql, parameters, returningRows)
    }

    private func returning(_ model: Model, _ sql: String, _ parameters: [ShardValue], _ returningRows: Bool) -> Statement {
        guard returningRows else { return Statement(sql, parameters) }
        return Statement(sql + " RETURNING \(columnList(model))", parameters, resultTypes: model.columns.map(\.type))
    }

    /// The rows of `model` whose `column` is one of `values`, by primary key, at most `limit`
    /// per statement: one statement per `inListChunk` values.
    package func selectIn(_ model: Model, column: String, _ values: [ShardValue], limit: Int) -> [Statement] {
        let order = " ORDER BY " + orderByClause(model.primaryKey.map { SortKey(column: $0) }) + " LIMIT \(limit)"
        return inLists(values) { markers in
            selectAll(model) + " WHERE \(SQLDialect.quote(column)) IN (\(markers))" + order
        }.map { Statement($0.sql, $0.values, resultTypes: model.columns.map(\.type)) }
    }

    /// Which of `keys` are primary keys of `model` rows (single-column keys): one statement
    /// per `inListChunk` keys, each returning the keys it found.
    package func keysIn(_ model: Model, _ keys: [ShardValue]) -> [Statement] {
        let key = SQLDialect.quote(model.primaryKey[0])
        return inLists(keys) { markers in
            "SELECT \(key) FROM \(SQLDialect.quote(model.table)) WHERE \(key) IN (\(markers))"
        }.map { Statement($0.sql, $0.values, resultTypes: [model.primaryKeyColumns[0].type]) }
    }

    /// `values` in chunks, each with the SQL `text` makes of its markers.
    func inLists(_ values: [ShardValue], _ text: (String) -> String) -> [(sql: String, values: [ShardValue])] {
        stride(from: 0, to: values.count, by: SQLDialect.inListChunk).map { start in
            let chunk = Array(values[start..<min(start + SQLDialect.inListChunk, values.count)])
            return (text((1...chunk.count).map(sequentialPlaceholder).joined(separator: ", ")), chunk)
        }
    }
}
