import ShardProtocol

extension Expression {
    /// SQL's three-valued result of this expression on one row (column name -> value):
    /// true, false, or nil for unknown. A row is kept when the result is true.
    ///
    /// The same rows as the SQL of `SQLDialect.whereClause` on SQLite and PostgreSQL, so that
    /// an expression means the same in a `where` and in a `having`:
    /// - a column missing from `row` is null;
    /// - comparisons use `ShardValue`'s one order (text by UTF-8 bytes, an int against a real
    ///   numerically); a null on either side is unknown;
    /// - `in` is an `or` of equalities and `not_in` its negation, except that an empty list is
    ///   false for `in` and true for `not_in` whatever the column holds (`1 = 0` / `1 = 1`);
    /// - `between lo hi` is `lo <= v and v <= hi`;
    /// - `like` matches per Unicode scalar (`%` any run, `_` exactly one scalar, no escape
    ///   character, case-sensitive), as GLOB on SQLite and LIKE on a UTF-8 PostgreSQL do;
    ///   `starts_with` is a prefix of the UTF-8 bytes. Both are unknown for null and for a
    ///   value that is not text (the parser only allows them on text columns);
    /// - `is_null` / `not_null` are never unknown;
    /// - `and`, `or`, `not` follow Kleene's logic; `and []` is true and `or []` false;
    /// - `any` / `has` need the related rows, which one row does not carry: unknown. The
    ///   places that evaluate in memory refuse them first (`having` is over an aggregate's
    ///   answer, which has no relationships; `subscribe` says so).
    package func evaluate(_ row: [String: ShardValue]) -> Bool? {
        switch self {
        case .compare(let comparison, let column, let operand):
            guard let order = ExpressionOrder(row[column] ?? .null, operand) else { return nil }
            switch comparison {
            case .equal: return order == .equal
            case .notEqual: return order != .equal
            case .less: return order == .less
            case .lessOrEqual: return order != .greater
            case .greater: return order == .greater
            case .greaterOrEqual: return order != .less
            }
        case .isIn(let column, let values):
            guard !values.isEmpty else { return false }
            return Self.contains(values, row[column] ?? .null)
        case .notIn(let column, let values):
            guard !values.isEmpty else { return true }
            return Self.contains(values, row[column] ?? .null).map { !$0 }
        case .between(let column, let low, let high):
            let value = row[column] ?? .null
            let aboveLow = ExpressionOrder(value, low).map { $0 != .less }
            let belowHigh = ExpressionOrder(value, high).map { $0 != .greater }
            return Self.and(aboveLow, belowHigh)
        case .like(let column, let pattern):
            guard case .text(let text) = row[column] ?? .null else { return nil }
            return Self.likeMatches(text, pattern: pattern)
        case .startsWith(let column, let prefix):
            guard case .text(let text) = row[column] ?? .null else { return nil }
            return text.utf8.starts(with: prefix.utf8)
        case .isNull(let column):
            return (row[column] ?? .null).isNull
        case .notNull(let column):
            return !(row[column] ?? .null).isNull
        case .and(let terms):
            var result: Bool? = true
            for term in terms {
                switch term.evaluate(row) {
                case false?: return false
                case nil: result = nil
                case true?: break
                }
            }
            return result
        case .or(let terms):
            var result: Bool? = false
            for term in terms {
                switch term.evaluate(row) {
                case true?: return true
                case nil: result = nil
                case false?: break
                }
            }
            return result
        case .not(let term):
            return term.evaluate(row).map { !$0 }
        case .related:
            return nil
        }
    }

    /// SQL's `value IN (values)` for a non-empty list: true on an equal element, else unknown
    /// if `value` (or an element) is null, else false.
    private static func contains(_ values: [ShardValue], _ value: ShardValue) -> Bool? {
        guard !value.isNull else { return nil }
        var unknown = false
        for element in values {
            switch ExpressionOrder(value, element) {
            case .equal?: return true
            case nil: unknown = true
            default: break
            }
        }
        return unknown ? nil : false
    }

    private static func and(_ a: Bool?, _ b: Bool?) -> Bool? {
        if a == false || b == false { return false }
        if a == nil || b == nil { return nil }
        return true
    }

    /// LIKE without an escape character over Unicode scalars: `%` matches any run, `_` exactly
    /// one scalar, any other scalar itself (case-sensitively, no normalization).
    ///
    /// Greedy with one backtrack point (the last `%` seen): O(text × pattern) at worst, never
    /// exponential, because a later `%` can always absorb what an earlier one would have.
    private static func likeMatches(_ text: String, pattern: String) -> Bool {
        let s = Array(text.unicodeScalars)
        let p = Array(pattern.unicodeScalars)
        var si = 0, pi = 0
        var starPattern = -1  // index just after the last `%`, or -1
        var starText = 0  // where the text resumes when that `%` absorbs one more scalar
        while si < s.count {
            if pi < p.count, p[pi] == "%" {
                pi += 1
                starPattern = pi
                starText = si
            } else if pi < p.count, p[pi] == "_" || p[pi] == s[si] {
                pi += 1
                si += 1
            } else if starPattern >= 0 {
                starText += 1
                si = starText
                pi = starPattern
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "%" { pi += 1 }
        return pi == p.count
    }
}

/// How two non-null values compare in `ShardValue`'s order; nil (unknown) when either is null.
///
/// Equal means neither is less: for text that is byte equality, and an int equals the real
/// of the same number (which `ShardValue.==` keeps apart).
private enum ExpressionOrder {
    case less, equal, greater

    init?(_ lhs: ShardValue, _ rhs: ShardValue) {
        if lhs.isNull || rhs.isNull { return nil }
        if lhs < rhs {
            self = .less
        } else if rhs < lhs {
            self = .greater
        } else {
            self = .equal
        }
    }
}
