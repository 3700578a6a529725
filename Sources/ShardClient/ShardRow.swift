/// Column values by name, in order: the values of a new row, an update, or a row that came back.
///
/// A dictionary literal works: `["continent": "Asia", "city": city]` (any `ShardValueConvertible`;
/// write `ShardValue.null` for null).
public struct ShardRow: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    /// The columns and their values, in order.
    public private(set) var columns: [(name: String, value: ShardValue)]

    /// A row with these columns in this order (names should be distinct).
    public init(_ columns: [(name: String, value: ShardValue)] = []) {
        self.columns = columns
    }

    /// A row from a literal, in the literal's order.
    public init(dictionaryLiteral elements: (String, any ShardValueConvertible)...) {
        columns = elements.map { (name: $0.0, value: $0.1.shardValue) }
    }

    /// A row from a JSON object of column values.
    /// - Throws: `ShardError` `bad_request` when `json` is not an object of column values.
    public init(json: JSONValue) throws(ShardError) {
        guard case .object(let object) = json else {
            throw ShardError(.badRequest, "\(json) is not an object of column values, e.g. {\"city\":\"Tokyo\"}")
        }
        var columns: [(name: String, value: ShardValue)] = []
        for member in object.members {
            columns.append((name: member.key, value: try ShardValue(json: member.value)))
        }
        self.columns = columns
    }

    init(answer: JSONObject) {
        columns = answer.members.map { (name: $0.key, value: ShardValue(untyped: $0.value)) }
    }

    /// The value of `column` (nil when the row has no such column); setting replaces or appends.
    public subscript(column: String) -> ShardValue? {
        get { columns.first { $0.name == column }?.value }
        set {
            let index = columns.firstIndex { $0.name == column }
            switch (index, newValue) {
            case (let index?, let value?): columns[index].value = value
            case (let index?, nil): columns.remove(at: index)
            case (nil, let value?): columns.append((name: column, value: value))
            case (nil, nil): break
            }
        }
    }

    /// The column names in order.
    public var names: [String] { columns.map(\.name) }

    /// How many columns the row has.
    public var count: Int { columns.count }

    /// Whether the row has no columns.
    public var isEmpty: Bool { columns.isEmpty }

    /// Iterates `(name, value)` in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: ShardValue)]> {
        columns.makeIterator()
    }

    /// Equal when both have the same columns and values in the same order.
    public static func == (lhs: ShardRow, rhs: ShardRow) -> Bool {
        lhs.columns.count == rhs.columns.count
            && zip(lhs.columns, rhs.columns).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// Hashes the columns in order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(columns.count)
        for column in columns {
            hasher.combine(column.name)
            hasher.combine(column.value)
        }
    }

    /// The row as a JSON object.
    public var json: JSONValue {
        .object(JSONValue.Object(columns.map { (key: $0.name, value: $0.value.json) }))
    }

    /// The row as compact JSON.
    public var description: String { json.description }

    func requestObject() throws(ShardError) -> JSONObject {
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(columns.count)
        for column in columns {
            members.append((key: column.name, value: try column.value.requestJSON(column: column.name)))
        }
        return JSONObject(members)
    }
}
