import ShardCore
import ShardProtocol

/// The counts of `rebalance`'s plan: a group's rows in one unit, children included, read
/// through the chain of parents up to the group's head.
extension SQLDialect {
    /// `FROM child t0 JOIN parent t1 ON ... JOIN head tN ON ...`: `chain` is the model and
    /// its parents up to the head, each with the column that names its parent.
    func chainFrom(_ chain: [(model: Model, via: String?)]) -> String {
        var sql = "FROM \(SQLDialect.quote(chain[0].model.table)) t0"
        for index in chain.indices.dropFirst() {
            let parent = chain[index].model
            let via = chain[index - 1].via ?? ""
            sql += " JOIN \(SQLDialect.quote(parent.table)) t\(index) ON t\(index).\(SQLDialect.quote(parent.primaryKey[0])) = t\(index - 1).\(SQLDialect.quote(via))"
        }
        return sql
    }

    /// How many rows of `chain[0]` belong to a map value or a range of the head's column; nil
    /// for a bucket, which `unitKeyPage`'s values count (SQL cannot hash).
    package func unitRowCount(_ chain: [(model: Model, via: String?)], column: String, unit: PlacementUnit) -> Statement? {
        let head = "t\(chain.count - 1).\(SQLDialect.quote(column))"
        switch unit {
        case .value(let value):
            return Statement("SELECT count(*) \(chainFrom(chain)) WHERE \(head) = \(placeholder(1))", [value], resultTypes: [.int])
        case .range(let lower, let upper):
            return Statement("SELECT count(*) \(chainFrom(chain)) WHERE \(head) >= \(placeholder(1)) AND \(head) < \(placeholder(2))",
                             [lower, upper], resultTypes: [.int])
        case .bucket, .key:
            return nil
        }
    }

    /// One page of `(t0's primary key..., the head's column)` in t0's key order, for counting
    /// rows per bucket with bounded memory.
    package func unitKeyPage(_ chain: [(model: Model, via: String?)], column: String, after: [ShardValue]?, limit: Int) -> Statement {
        let first = chain[0].model
        let key = first.primaryKey.map { "t0." + SQLDialect.quote($0) }
        var parameters: [ShardValue] = []
        var sql = "SELECT \(key.joined(separator: ", ")), t\(chain.count - 1).\(SQLDialect.quote(column)) \(chainFrom(chain))"
        sql += keysetPage(key, after: after, limit: limit, parameters: &parameters)
        let headType = chain[chain.count - 1].model.column(named: column)?.type ?? .text
        return Statement(sql, parameters, resultTypes: first.primaryKeyColumns.map(\.type) + [headType])
    }
}
