/// A column of a model, by its name in shards.conf, for building `where` expressions:
/// `Column("temperature") >= 80`, `Column("continent").in(["Asia", "Europe"])`.
///
/// The daemon checks the name; an unknown one fails with `unknown_column`.
public struct Column: Sendable, Hashable, CustomStringConvertible {
    /// The column's name.
    public let name: String

    /// The column called `name`.
    public init(_ name: String) {
        self.name = name
    }

    /// The name.
    public var description: String { name }

    /// `["in", column, [values...]]`: the value is one of `values`.
    public func `in`<Value: ShardValueConvertible>(_ values: [Value]) -> Predicate {
        Predicate(.list("in", name, values.map(\.shardValue)))
    }

    /// `["not_in", column, [values...]]`: the value is none of `values`.
    public func notIn<Value: ShardValueConvertible>(_ values: [Value]) -> Predicate {
        Predicate(.list("not_in", name, values.map(\.shardValue)))
    }

    /// `["between", column, low, high]`: `low <= value <= high`.
    public func between<Value: ShardValueConvertible>(_ low: Value, _ high: Value) -> Predicate {
        Predicate(.between(name, low.shardValue, high.shardValue))
    }

    /// `["between", column, low, high]` for a closed range: `Column("temperature").between(60...80)`.
    public func between<Value: ShardValueConvertible & Comparable>(_ range: ClosedRange<Value>) -> Predicate {
        between(range.lowerBound, range.upperBound)
    }

    /// `["like", column, pattern]`: SQL LIKE with `%` and `_`, case-sensitive on every backend.
    public func like(_ pattern: String) -> Predicate {
        Predicate(.compare("like", name, .text(pattern)))
    }

    /// `["starts_with", column, prefix]`: the text begins with `prefix` (no wildcards).
    public func startsWith(_ prefix: String) -> Predicate {
        Predicate(.compare("starts_with", name, .text(prefix)))
    }

    /// `["is_null", column]`.
    public var isNull: Predicate { Predicate(.unary("is_null", name)) }

    /// `["not_null", column]`.
    public var isNotNull: Predicate { Predicate(.unary("not_null", name)) }

    /// Ascending order on this column, for `orderBy`.
    public var ascending: Ordering { Ordering(column: name, descending: false) }

    /// Descending order on this column (`"-name"`), for `orderBy`.
    public var descending: Ordering { Ordering(column: name, descending: true) }

    /// `["=", column, value]`.
    public static func == <Value: ShardValueConvertible>(column: Column, value: Value) -> Predicate {
        Predicate(.compare("=", column.name, value.shardValue))
    }

    /// `["!=", column, value]`.
    public static func != <Value: ShardValueConvertible>(column: Column, value: Value) -> Predicate {
        Predicate(.compare("!=", column.name, value.shardValue))
    }

    /// `["<", column, value]`.
    public static func < <Value: ShardValueConvertible>(column: Column, value: Value) -> Predicate {
        Predicate(.compare("<", column.name, value.shardValue))
    }

    /// `["<=", column, value]`.
    public static func <= <Value: ShardValueConvertible>(column: Column, value: Value) -> Predicate {
        Predicate(.compare("<=", column.name, value.shardValue))
    }

    /// `[">", column, value]`.
    public static func > <Value: ShardValueConvertible>(column: Column, value: Value) -> Predicate {
        Predicate(.compare(">", column.name, value.shardValue))
    }

    /// `[">=", column, value]`.
    public static func >= <Value: ShardValueConvertible>(column: Column, value: Value) -> Predicate {
        Predicate(.compare(">=", column.name, value.shardValue))
    }
}
