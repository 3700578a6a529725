/// One `order_by` term: a column, ascending or descending.
///
/// A string literal works: `"city"`, `"-temperature"` (descending); or `Column("temperature").descending`.
public struct Ordering: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The column's name.
    public var column: String
    /// Whether the order is descending (`null` sorts last then; first when ascending).
    public var descending: Bool

    /// An ordering on `column`.
    public init(column: String, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }

    /// `"city"` ascending, `"-temperature"` descending.
    public init(_ text: String) {
        if text.hasPrefix("-") {
            self.init(column: String(text.dropFirst()), descending: true)
        } else {
            self.init(column: text)
        }
    }

    /// `"city"` ascending, `"-temperature"` descending.
    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// The protocol form: `"city"` or `"-temperature"`.
    public var description: String { descending ? "-" + column : column }

    static func requestJSON(_ orderings: [Ordering]) -> JSONValue {
        .array(orderings.map { .string($0.description) })
    }
}
