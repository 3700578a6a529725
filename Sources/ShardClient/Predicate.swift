/// A `where` (or `having`) expression of protocol.md 7, built from `Column` operators and
/// combined with `&&`, `||` and `!`:
///
/// ```swift
/// (Column("temperature") >= 80 && Column("continent").in(["Asia", "Europe"])) || Column("city").startsWith("T")
/// ```
public struct Predicate: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        /// `[op, column, value]` for `=`, `!=`, `<`, `<=`, `>`, `>=`, `like`, `starts_with`.
        case compare(String, String, ShardValue)
        /// `[op, column, [values]]` for `in`, `not_in`.
        case list(String, String, [ShardValue])
        case between(String, ShardValue, ShardValue)
        /// `[op, column]` for `is_null`, `not_null`.
        case unary(String, String)
        case and([Node])
        case or([Node])
        case not(Node)
        /// The object form `{"column": value, ...}`: equalities joined by AND.
        case equalities(ShardRow)
        /// An expression given as JSON, sent as it is.
        case json(JSONValue)
        /// `["any" | "has", relationship, condition?]` over the related model.
        case related(String, String, Node?)
    }

    let node: Node

    init(_ node: Node) {
        self.node = node
    }

    /// The object form `{"continent": "Asia", "city": "Tokyo"}`: every column equals its value.
    public static func equals(_ row: ShardRow) -> Predicate {
        Predicate(.equalities(row))
    }

    /// An expression written as protocol JSON, e.g. parsed from a command line; the daemon checks it.
    public init(json: JSONValue) {
        node = .json(json)
    }

    /// `["and", ...]` of all of `predicates` (an empty list matches every row).
    public static func all(_ predicates: [Predicate]) -> Predicate {
        Predicate(.and(predicates.flatMap { $0.andTerms }))
    }

    /// `["or", ...]` of `predicates` (an empty list matches no row).
    public static func any(_ predicates: [Predicate]) -> Predicate {
        Predicate(.or(predicates.flatMap { predicate -> [Node] in
            if case .or(let terms) = predicate.node { return terms }
            return [predicate.node]
        }))
    }

    /// `["any", relationship, predicate?]`: at least one related row of a to-many relationship
    /// (matching `predicate`, over the related model), SQLAlchemy's `any()`:
    /// `Predicate.any("reports", Column("temperature") > 90)` on `WeatherLocation`.
    public static func any(_ relationship: String, _ predicate: Predicate? = nil) -> Predicate {
        Predicate(.related("any", relationship, predicate?.node))
    }

    /// `["has", relationship, predicate?]`: the related row of a to-one relationship exists (and
    /// matches `predicate`), SQLAlchemy's `has()`: `Predicate.has("location", Column("continent") == "Asia")`.
    public static func has(_ relationship: String, _ predicate: Predicate? = nil) -> Predicate {
        Predicate(.related("has", relationship, predicate?.node))
    }

    /// `["and", lhs, rhs]`, flattened: `a && b && c` is one `["and", a, b, c]`.
    public static func && (lhs: Predicate, rhs: Predicate) -> Predicate {
        all([lhs, rhs])
    }

    /// `["or", lhs, rhs]`, flattened.
    public static func || (lhs: Predicate, rhs: Predicate) -> Predicate {
        any([lhs, rhs])
    }

    /// `["not", predicate]`.
    public static prefix func ! (predicate: Predicate) -> Predicate {
        Predicate(.not(predicate.node))
    }

    /// The terms of an AND: an `and` node's terms, an object form's equalities.
    private var andTerms: [Node] {
        switch node {
        case .and(let terms): return terms
        case .equalities(let row): return row.columns.map { .compare("=", $0.name, $0.value) }
        default: return [node]
        }
    }

    /// The expression as protocol JSON: `[">=","temperature",80]`.
    public var json: JSONValue { ((try? requestJSON()) ?? .null) }

    /// Compact protocol JSON.
    public var description: String { json.description }

    func requestJSON() throws(ShardError) -> JSONValue {
        try Self.core(node)
    }

    private static func core(_ node: Node) throws(ShardError) -> JSONValue {
        switch node {
        case .compare(let op, let column, let value):
            return .array([.string(op), .string(column), try value.requestJSON(column: column)])
        case .list(let op, let column, let values):
            var elements: [JSONValue] = []
            elements.reserveCapacity(values.count)
            for value in values { elements.append(try value.requestJSON(column: column)) }
            return .array([.string(op), .string(column), .array(elements)])
        case .between(let column, let low, let high):
            return .array([.string("between"), .string(column), try low.requestJSON(column: column), try high.requestJSON(column: column)])
        case .unary(let op, let column):
            return .array([.string(op), .string(column)])
        case .and(let terms):
            var elements: [JSONValue] = [.string("and")]
            for term in terms { elements.append(try core(term)) }
            return .array(elements)
        case .or(let terms):
            var elements: [JSONValue] = [.string("or")]
            for term in terms { elements.append(try core(term)) }
            return .array(elements)
        case .not(let term):
            return .array([.string("not"), try core(term)])
        case .equalities(let row):
            return .object(try row.requestObject())
        case .json(let json):
            return json
        case .related(let op, let relationship, let condition):
            var elements: [JSONValue] = [.string(op), .string(relationship)]
            if let condition { elements.append(try core(condition)) }
            return .array(elements)
        }
    }
}
