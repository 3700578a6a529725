import ShardCore
import ShardProtocol

extension SQLDialect {
    /// The SQL computing one aggregate partial on a shard.
    ///
    /// PostgreSQL has no `min`/`max` of booleans: `bool_and`/`bool_or` are the same thing.
    package func partialExpression(_ partial: AggregatePlan.Partial) -> String {
        guard let column = partial.column else { return "COUNT(*)" }
        let name = SQLDialect.quote(column.name)
        switch partial.kind {
        case .countRows: return "COUNT(*)"
        case .count: return "COUNT(\(name))"
        case .sum: return "SUM(\(name))"
        // Both backends shift arithmetically (sign-extending), so high * 2^32 + low is the value.
        case .sumHigh: return "SUM(\(name) >> 32)"
        case .sumLow: return "SUM(\(name) & 4294967295)"
        case .min: return backend == .postgres && column.type == .bool ? "bool_and(\(name))" : "MIN(\(name))"
        case .max: return backend == .postgres && column.type == .bool ? "bool_or(\(name))" : "MAX(\(name))"
        }
    }

    /// One shard's statement for a plan: group columns and partials, grouped, at most
    /// `limit` groups.
    package func aggregateStatement(_ plan: AggregatePlan, where filter: ShardCore.Expression?, limit: Int) -> Statement {
        var parameters: [ShardValue] = []
        let groups = plan.groupBy.map { SQLDialect.quote($0.name) }
        let selected = groups + plan.partials.map(partialExpression)
        var sql = "SELECT \(selected.joined(separator: ", ")) FROM \(SQLDialect.quote(plan.model.table))"
        if let filter { sql += " WHERE " + whereClause(filter, model: plan.model, parameters: &parameters) }
        if !groups.isEmpty { sql += " GROUP BY \(groups.joined(separator: ", "))" }
        sql += " LIMIT \(limit)"
        return Statement(sql, parameters, resultTypes: plan.shardRowTypes)
    }
}
