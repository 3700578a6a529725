/// One column of an `aggregate` select: `.avg("temperature")`, `.count()`, `.max("temperature", as: "hottest")`.
///
/// Without an alias, the result column is `fn_col` (`avg_temperature`), or `count` for `count(*)`.
public struct Aggregate: Sendable, Hashable, CustomStringConvertible {
    /// An aggregate function of protocol.md 8.
    public enum Function: String, Sendable, Hashable {
        /// Rows (with `*`) or non-null values of a column.
        case count
        /// The sum of a number column.
        case sum
        /// The least value.
        case min
        /// The greatest value.
        case max
        /// The mean of a number column (exact across shards: total sum over total count).
        case avg
    }

    /// The function.
    public var function: Function
    /// The column, or `*` for `count`.
    public var column: String
    /// The name of the result column, when not the default.
    public var alias: String?

    /// An aggregate of `column`.
    public init(_ function: Function, _ column: String, as alias: String? = nil) {
        self.function = function
        self.column = column
        self.alias = alias
    }

    /// `count(*)` (the default) or `count(column)`.
    public static func count(_ column: String = "*", as alias: String? = nil) -> Aggregate { Aggregate(.count, column, as: alias) }
    /// `sum(column)`.
    public static func sum(_ column: String, as alias: String? = nil) -> Aggregate { Aggregate(.sum, column, as: alias) }
    /// `min(column)`.
    public static func min(_ column: String, as alias: String? = nil) -> Aggregate { Aggregate(.min, column, as: alias) }
    /// `max(column)`.
    public static func max(_ column: String, as alias: String? = nil) -> Aggregate { Aggregate(.max, column, as: alias) }
    /// `avg(column)`.
    public static func avg(_ column: String, as alias: String? = nil) -> Aggregate { Aggregate(.avg, column, as: alias) }

    /// The protocol form, `["avg","temperature"]` or `["max","temperature","hottest"]`.
    public var description: String { requestJSON.description }

    var requestJSON: JSONValue {
        var parts: [JSONValue] = [.string(function.rawValue), .string(column)]
        if let alias { parts.append(.string(alias)) }
        return .array(parts)
    }
}

/// The answer of `aggregate`: one row per group, keyed by group column and alias.
public struct AggregateResult: Sendable {
    /// The rows, in the requested order (then by the group columns).
    public let rows: [ShardRow]
    /// The shards that were asked.
    public let shards: [String]
    let answerRows: [JSONObject]

    init(_ answer: JSONObject) throws(ShardError) {
        guard case .array(let elements)? = answer["rows"], let shards = answer["shards"]?.stringsValue else {
            throw ShardError.invalidResponse("to aggregate lacks rows or shards")
        }
        var answerRows: [JSONObject] = []
        for element in elements {
            guard case .object(let row) = element else { throw ShardError.invalidResponse("to aggregate has a row that is not an object") }
            answerRows.append(row)
        }
        self.answerRows = answerRows
        self.rows = answerRows.map(ShardRow.init(answer:))
        self.shards = shards
    }

    /// The rows read as a `Decodable` type whose properties are the group columns and aliases.
    /// - Throws: `ShardError` `decoding_failed` when a row does not fit `Row`.
    public func decode<Row: Decodable>(as type: Row.Type = Row.self) throws(ShardError) -> [Row] {
        var decoded: [Row] = []
        decoded.reserveCapacity(answerRows.count)
        for row in answerRows { decoded.append(try ModelDecoder.decode(Row.self, from: row)) }
        return decoded
    }
}
