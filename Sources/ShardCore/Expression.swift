import ShardProtocol

/// A parsed `where` (protocol.md 7), its columns checked against a model and its values
/// checked against their columns' types.
package indirect enum Expression: Sendable, Equatable {
    /// `=`, `!=`, `<`, `<=`, `>`, `>=` against a non-null value (`= null` parses to `isNull`).
    case compare(Comparison, column: String, ShardValue)
    case isIn(column: String, [ShardValue])
    case notIn(column: String, [ShardValue])
    /// `lo <= column <= hi`, as SQL BETWEEN.
    case between(column: String, ShardValue, ShardValue)
    /// SQL LIKE with `%` and `_`, case-sensitive on every backend.
    case like(column: String, pattern: String)
    case startsWith(column: String, prefix: String)
    case isNull(column: String)
    case notNull(column: String)
    case and([Expression])
    case or([Expression])
    case not(Expression)
    /// `any` (to-many) / `has` (to-one): a related row exists, matching `condition` when
    /// given (protocol.md 7). Related rows live on their parent's shard, so each shard
    /// answers it alone.
    case related(RelatedCondition)

    package enum Comparison: String, Sendable, Equatable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }
}

/// The operand of `any` / `has`: the relationship followed from the expression's model, the
/// model it leads to, and the condition over that model's columns.
package struct RelatedCondition: Sendable, Equatable {
    package var relationship: Relationship
    package var target: Model
    package var condition: Expression?

    package init(relationship: Relationship, target: Model, condition: Expression?) {
        self.relationship = relationship
        self.target = target
        self.condition = condition
    }

    /// `any` for a to-many relationship, `has` for a to-one.
    package var op: String { relationship.kind == .toMany ? "any" : "has" }
}

/// One `order_by` term: `"col"` ascending, `"-col"` descending (protocol.md 7).
package struct SortKey: Sendable, Equatable {
    package var column: String
    package var descending: Bool

    package init(column: String, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }
}
