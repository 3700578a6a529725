/// The answer of raw `sql`: column names and rows of values, with the shards it ran on.
public struct SQLResult: Sendable, Hashable {
    /// The result's column names.
    public let columns: [String]
    /// The rows, shards in shards.conf order; timestamps come as `.text`.
    public let rows: [[ShardValue]]
    /// The shards the statement ran on.
    public let shards: [String]

    init(_ answer: JSONObject) throws(ShardError) {
        guard let columns = answer["columns"]?.stringsValue, case .array(let rows)? = answer["rows"],
              let shards = answer["shards"]?.stringsValue
        else {
            throw ShardError.invalidResponse("to sql lacks columns, rows or shards")
        }
        self.columns = columns
        self.rows = rows.map { $0.arrayValue?.map(ShardValue.init(untyped:)) ?? [] }
        self.shards = shards
    }
}
