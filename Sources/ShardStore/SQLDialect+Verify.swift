import ShardCore
import ShardProtocol

/// The reads of `verify` (protocol.md 9): pages of keys in primary-key order, and the child
/// rows whose parent is not on the same shard.
extension SQLDialect {
    /// One page of `(primary key..., key column)` after the key `after` (nil: from the start),
    /// in primary-key order: a bounded read however large the table is.
    package func keyPage(_ model: Model, keyColumn: String, after: [ShardValue]?, limit: Int) -> Statement {
        let key = model.primaryKey.map(SQLDialect.quote)
        let columns = (key + [SQLDialect.quote(keyColumn)]).joined(separator: ", ")
        var parameters: [ShardValue] = []
        var sql = "SELECT \(columns) FROM \(SQLDialect.quote(model.table))"
        sql += keysetPage(key, after: after, limit: limit, parameters: &parameters)
        let types = model.primaryKeyColumns.map(\.type) + [model.column(named: keyColumn)?.type ?? .text]
        return Statement(sql, parameters, resultTypes: types)
    }

    /// ` WHERE (key...) > (after...) ORDER BY key... LIMIT n`, the tail of a keyset page
    /// (no WHERE for the first page), its values appended to `parameters`.
    func keysetPage(_ key: [String], after: [ShardValue]?, limit: Int, parameters: inout [ShardValue]) -> String {
        var sql = ""
        if let after {
            parameters += after
            let markers = (parameters.count - after.count + 1...parameters.count).map(placeholder).joined(separator: ", ")
            sql += key.count == 1 ? " WHERE \(key[0]) > \(markers)" : " WHERE (\(key.joined(separator: ", "))) > (\(markers))"
        }
        parameters.append(.int(Int64(limit)))
        return sql + " ORDER BY \(key.joined(separator: ", ")) LIMIT \(placeholder(parameters.count))"
    }

    /// `FROM child c WHERE NOT EXISTS (the parent on this shard)`: rows of a child model whose
    /// parent row is not on the same shard (or that name none).
    private func orphanFilter(_ child: Model, parent: Model, via: String) -> String {
        let parentKey = SQLDialect.quote(parent.primaryKey[0])
        return "FROM \(SQLDialect.quote(child.table)) c WHERE NOT EXISTS (SELECT 1 FROM \(SQLDialect.quote(parent.table)) p WHERE p.\(parentKey) = c.\(SQLDialect.quote(via)))"
    }

    /// How many rows of `child` have no parent on the shard.
    package func orphanCount(_ child: Model, parent: Model, via: String) -> Statement {
        Statement("SELECT count(*) " + orphanFilter(child, parent: parent, via: via), resultTypes: [.int])
    }

    /// The primary keys of the first `limit` of them.
    package func orphanKeys(_ child: Model, parent: Model, via: String, limit: Int) -> Statement {
        let key = child.primaryKey.map { "c." + SQLDialect.quote($0) }.joined(separator: ", ")
        return Statement("SELECT \(key) " + orphanFilter(child, parent: parent, via: via) + " ORDER BY \(key) LIMIT \(placeholder(1))",
                         [.int(Int64(limit))], resultTypes: child.primaryKeyColumns.map(\.type))
    }
}
