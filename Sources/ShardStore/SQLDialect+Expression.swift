import ShardCore
import ShardProtocol

/// `where` and `order_by` as SQL, the same rows matching and the same order on every backend
/// (protocol.md 7).
///
/// Values are always bound: each is appended to the caller's parameter list and the SQL names
/// it by `placeholder(parameters.count)`, so a clause composes with parameters bound before it.
///
/// Null follows SQL's three-valued logic on both backends alike: a comparison, `in`, `like`,
/// `starts_with` or `between` on a null column is unknown, and `not` of unknown is unknown,
/// so such a row is never matched. In particular `!=` and `not_in` do not match rows whose
/// column is null (`["or", ["!=", c, v], ["is_null", c]]` does). The one exception is
/// `not_in` with an empty list, which matches every row, nulls included.
extension SQLDialect {
    /// The SQL condition for `expression` (without the `WHERE` keyword), its values appended
    /// to `parameters`.
    ///
    /// `model` is the model the expression was parsed against; columns and value types were
    /// checked then and are not checked again here.
    package func whereClause(_ expression: Expression, model: Model, parameters: inout [ShardValue]) -> String {
        condition(expression, model: model, qualifier: SQLDialect.quote(model.table), depth: 0, parameters: &parameters)
    }

    /// `expression` over the rows of `model`, named `qualifier` in the statement (its table,
    /// or the alias of an enclosing `EXISTS`); `depth` counts the enclosing `EXISTS`.
    ///
    /// Columns stay unqualified: inside an `EXISTS` they resolve to its own table first, and
    /// the parser checked them against that model. Only the correlation names both sides.
    /// The alias (`shardd_r1`, unquoted, no `AS`) is the shape `VisibilityRewrite` keeps
    /// when it reads a table's view instead.
    private func condition(_ expression: Expression, model: Model, qualifier: String, depth: Int,
                           parameters: inout [ShardValue]) -> String {
        func bind(_ value: ShardValue) -> String {
            parameters.append(value)
            return placeholder(parameters.count)
        }
        switch expression {
        case .compare(let comparison, let column, let value):
            // Text compares by bytes on both: SQLite's default BINARY collation, and the
            // column's COLLATE "C" on PostgreSQL (which wins over the parameter's default).
            let op = comparison == .notEqual ? "<>" : comparison.rawValue
            return "\(SQLDialect.quote(column)) \(op) \(bind(value))"
        case .isIn(let column, let values):
            guard !values.isEmpty else { return "1 = 0" }
            return "\(SQLDialect.quote(column)) IN (" + values.map(bind).joined(separator: ", ") + ")"
        case .notIn(let column, let values):
            guard !values.isEmpty else { return "1 = 1" }
            return "\(SQLDialect.quote(column)) NOT IN (" + values.map(bind).joined(separator: ", ") + ")"
        case .between(let column, let low, let high):
            let lowMarker = bind(low)
            return "\(SQLDialect.quote(column)) BETWEEN \(lowMarker) AND \(bind(high))"
        case .like(let column, let pattern):
            switch backend {
            case .sqlite:
                // SQLite's LIKE ignores ASCII case; GLOB is case-sensitive and, with the
                // wildcards translated, matches exactly what a case-sensitive LIKE would.
                return "\(SQLDialect.quote(column)) GLOB \(bind(.text(SQLDialect.globPattern(like: pattern))))"
            case .postgres:
                // The protocol's LIKE has no escape character; PostgreSQL's default is `\`.
                return "\(SQLDialect.quote(column)) LIKE \(bind(.text(pattern))) ESCAPE ''"
            }
        case .startsWith(let column, let prefix):
            switch backend {
            case .sqlite:
                // The prefix with GLOB's metacharacters escaped, then `*`: SQLite can answer
                // this from an index on the column (BINARY collation, no leading wildcard).
                return "\(SQLDialect.quote(column)) GLOB \(bind(.text(SQLDialect.globLiteral(prefix) + "*")))"
            case .postgres:
                // Byte-wise under the column's deterministic "C" collation, no wildcards;
                // PostgreSQL 15 can use a btree index on a "C" column for a constant prefix.
                return "starts_with(\(SQLDialect.quote(column)), \(bind(.text(prefix))))"
            }
        case .isNull(let column):
            return "\(SQLDialect.quote(column)) IS NULL"
        case .notNull(let column):
            return "\(SQLDialect.quote(column)) IS NOT NULL"
        case .and(let terms):
            guard !terms.isEmpty else { return "1 = 1" }
            return "(" + terms.map { condition($0, model: model, qualifier: qualifier, depth: depth, parameters: &parameters) }
                .joined(separator: " AND ") + ")"
        case .or(let terms):
            guard !terms.isEmpty else { return "1 = 0" }
            return "(" + terms.map { condition($0, model: model, qualifier: qualifier, depth: depth, parameters: &parameters) }
                .joined(separator: " OR ") + ")"
        case .not(let term):
            return "NOT (" + condition(term, model: model, qualifier: qualifier, depth: depth, parameters: &parameters) + ")"
        case .related(let related):
            let alias = "shardd_r\(depth + 1)"
            let target = related.target, foreignKey = SQLDialect.quote(related.relationship.foreignKey)
            // To-many: the children's column holds this row's key; to-one: this row's column
            // holds the target's key.
            let correlation = switch related.relationship.kind {
            case .toMany: "\(alias).\(foreignKey) = \(qualifier).\(SQLDialect.quote(model.primaryKey[0]))"
            case .toOne: "\(alias).\(SQLDialect.quote(target.primaryKey[0])) = \(qualifier).\(foreignKey)"
            }
            var sql = "EXISTS (SELECT 1 FROM \(SQLDialect.quote(target.table)) \(alias) WHERE \(correlation)"
            if let inner = related.condition {
                sql += " AND " + condition(inner, model: target, qualifier: alias, depth: depth + 1, parameters: &parameters)
            }
            return sql + ")"
        }
    }

    /// The terms of an ORDER BY (without the keyword) in the one order of protocol.md 7;
    /// empty when `keys` is.
    package func orderByClause(_ keys: [SortKey]) -> String {
        keys.map { orderTerm($0.column, descending: $0.descending) }.joined(separator: ", ")
    }

    /// The GLOB pattern matching what the LIKE `pattern` (`%`, `_`, no escape character)
    /// matches: `%` -> `*`, `_` -> `?`, GLOB's own `*`, `?` and `[` made literal.
    ///
    /// Both match per Unicode scalar (`_` and `?` take one code point), case-sensitively.
    package static func globPattern(like pattern: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(pattern.unicodeScalars.count)
        for scalar in pattern.unicodeScalars {
            switch scalar {
            case "%": out += "*"
            case "_": out += "?"
            default: appendGlobLiteral(scalar, to: &out)
            }
        }
        return out
    }

    /// `text` as a GLOB pattern that matches exactly `text` (`]` needs no escape outside a class).
    package static func globLiteral(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars { appendGlobLiteral(scalar, to: &out) }
        return out
    }

    private static func appendGlobLiteral(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "*": out += "[*]"
        case "?": out += "[?]"
        case "[": out += "[[]"
        default: out.unicodeScalars.append(scalar)
        }
    }
}
