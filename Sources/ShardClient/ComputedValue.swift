/// A value each shard computes from the row it updates (protocol.md 7), built from a
/// `Column` and an operator: `Column("temperature") + 1.5`, `Column("city").concat(" (old)")`,
/// `Column("price") * (Column("price") + 1)`, `ComputedValue.now`.
///
/// The left operand is always a column of the model being updated; the right one a value or
/// another computed value. The daemon checks the types: an int overflow or a division by zero
/// fails the whole request with `invalid_value`.
public struct ComputedValue: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        case now
        case operation(String, column: String, Operand)
    }

    enum Operand: Sendable, Hashable {
        case value(ShardValue)
        case computed(Node)
    }

    let node: Node

    init(_ node: Node) {
        self.node = node
    }

    /// `["now"]`: the daemon's clock, for timestamp columns.
    public static let now = ComputedValue(.now)

    /// The protocol form: `["+", "temperature", 1.5]`.
    public var json: JSONValue { (try? requestJSON()) ?? .null }

    /// Compact protocol JSON.
    public var description: String { json.description }

    static func operation(_ op: String, _ column: Column, _ operand: Operand) -> ComputedValue {
        ComputedValue(.operation(op, column: column.name, operand))
    }

    /// - Throws: `invalid_value` for a value JSON cannot carry (a real that is not finite).
    func requestJSON() throws(ShardError) -> JSONValue {
        try Self.json(node)
    }

    private static func json(_ node: Node) throws(ShardError) -> JSONValue {
        switch node {
        case .now:
            return .array([.string("now")])
        case .operation(let op, let column, .value(let value)):
            return .array([.string(op), .string(column), try value.requestJSON(column: column)])
        case .operation(let op, let column, .computed(let inner)):
            return .array([.string(op), .string(column), try json(inner)])
        }
    }
}

extension Column {
    /// `["concat", column, text]`: the column's text with `suffix` appended.
    public func concat(_ suffix: String) -> ComputedValue {
        .operation("concat", self, .value(.text(suffix)))
    }

    /// `["concat", column, computed]`.
    public func concat(_ suffix: ComputedValue) -> ComputedValue {
        .operation("concat", self, .computed(suffix.node))
    }

    /// `["+", column, value]`.
    public static func + (column: Column, value: some ShardValueConvertible) -> ComputedValue {
        .operation("+", column, .value(value.shardValue))
    }

    /// `["-", column, value]`.
    public static func - (column: Column, value: some ShardValueConvertible) -> ComputedValue {
        .operation("-", column, .value(value.shardValue))
    }

    /// `["*", column, value]`.
    public static func * (column: Column, value: some ShardValueConvertible) -> ComputedValue {
        .operation("*", column, .value(value.shardValue))
    }

    /// `["/", column, value]`: an int divided by an int truncates toward zero.
    public static func / (column: Column, value: some ShardValueConvertible) -> ComputedValue {
        .operation("/", column, .value(value.shardValue))
    }

    /// `["+", column, computed]`.
    public static func + (column: Column, value: ComputedValue) -> ComputedValue { .operation("+", column, .computed(value.node)) }
    /// `["-", column, computed]`.
    public static func - (column: Column, value: ComputedValue) -> ComputedValue { .operation("-", column, .computed(value.node)) }
    /// `["*", column, computed]`.
    public static func * (column: Column, value: ComputedValue) -> ComputedValue { .operation("*", column, .computed(value.node)) }
    /// `["/", column, computed]`.
    public static func / (column: Column, value: ComputedValue) -> ComputedValue { .operation("/", column, .computed(value.node)) }
}

/// One column's new value in an update: a plain value or one the shard computes.
///
/// ```swift
/// try await session.query(Report.self).where(Column("location_id") == 7)
///     .update(.set("temperature", Column("temperature") + 1.5), .set("note", "corrected"))
/// ```
public struct Assignment: Sendable, Hashable {
    enum Value: Sendable, Hashable {
        case plain(ShardValue)
        case computed(ComputedValue)
    }

    /// The column set.
    public let column: String
    let value: Value

    /// Sets `column` to a plain value (`ShardValue.null` for null).
    public static func set(_ column: String, _ value: some ShardValueConvertible) -> Assignment {
        Assignment(column: column, value: .plain(value.shardValue))
    }

    /// Sets `column` to what each shard computes from the row.
    public static func set(_ column: String, _ value: ComputedValue) -> Assignment {
        Assignment(column: column, value: .computed(value))
    }

    /// The `values` object of `update` / `update_where`.
    static func values(_ assignments: [Assignment]) throws(ShardError) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        for assignment in assignments {
            switch assignment.value {
            case .plain(let value): members.append((assignment.column, try value.requestJSON(column: assignment.column)))
            case .computed(let value): members.append((assignment.column, try value.requestJSON()))
            }
        }
        return .object(JSONObject(members))
    }
}
