import Foundation

/// One column value (protocol.md 3), as the daemon, its backends and its clients see it.
///
/// The daemon never coerces between cases: a `.text("12")` is not an int. Literals work where
/// a `ShardValue` is expected: `"Tokyo"`, `80`, `80.5`, `true`, `nil`. The protocol carries no
/// type tags, so a timestamp column read through the client's dynamic API arrives as `.text`;
/// `dateValue` reads it.
public enum ShardValue: Sendable {
    /// SQL null.
    case null
    /// An `int` column: a signed 64-bit integer.
    case int(Int64)
    /// A `real` column: a finite double.
    case real(Double)
    /// A `text` column.
    case text(String)
    /// A `bool` column.
    case bool(Bool)
    /// A `timestamp` column: microseconds since 1970 in UTC.
    case timestamp(Timestamp)

    /// A timestamp at `date`, rounded to the microsecond.
    public static func timestamp(_ date: Date) -> ShardValue {
        .timestamp(Timestamp(date))
    }

    /// Whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The integer of `.int` (or of a `.real` with an exact integer value).
    public var intValue: Int64? {
        switch self {
        case .int(let number): return number
        case .real(let number): return Int64(exactly: number)
        default: return nil
        }
    }

    /// The number of `.real` or `.int`.
    public var doubleValue: Double? {
        switch self {
        case .int(let number): return Double(number)
        case .real(let number): return number
        default: return nil
        }
    }

    /// The string of `.text`.
    public var stringValue: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// The flag of `.bool`.
    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    /// The instant of `.timestamp`, or of `.text` holding an RFC 3339 timestamp.
    public var dateValue: Date? {
        switch self {
        case .timestamp(let timestamp): return timestamp.date
        case .text(let text): return (try? Timestamp(rfc3339: text))?.date
        default: return nil
        }
    }

    /// The column type this value belongs to, or nil for `.null`.
    package var type: ColumnType? {
        switch self {
        case .null: nil
        case .int: .int
        case .real: .real
        case .text: .text
        case .bool: .bool
        case .timestamp: .timestamp
        }
    }
}

/// A value that does not fit its column (protocol.md code `invalid_value`).
public struct InvalidValue: Error, Sendable, Equatable, CustomStringConvertible {
    /// The column, when the value was meant for one.
    public var column: String?
    /// What is wrong, in words a person can act on.
    public var reason: String

    /// An error for `column` (if any) with this reason.
    public init(column: String? = nil, _ reason: String) {
        self.column = column
        self.reason = reason
    }

    /// `column c: reason`, or the reason alone.
    public var description: String {
        if let column { return "column \(column): \(reason)" }
        return reason
    }
}

extension ShardValue {
    /// Checks that this value may be stored in a column of `type`.
    ///
    /// An integer is accepted for a `real` column (protocol.md 3) and becomes a double;
    /// NaN and infinities are refused because neither JSON nor an order can hold them.
    package func checked(for type: ColumnType, nullable: Bool, column: String? = nil) throws(InvalidValue) -> ShardValue {
        switch (self, type) {
        case (.null, _):
            if nullable { return .null }
            throw InvalidValue(column: column, "null is not allowed (the column is not nullable)")
        case (.text(let s), .text):
            // PostgreSQL cannot store U+0000 in text; refusing it everywhere keeps one value model.
            if s.utf8.contains(0) { throw InvalidValue(column: column, "text may not contain the NUL character (U+0000)") }
            return self
        case (.int, .int), (.bool, .bool), (.timestamp, .timestamp):
            return self
        case (.real(let d), .real):
            guard d.isFinite else { throw InvalidValue(column: column, "\(d) is not a finite number") }
            return self
        case (.int(let i), .real):
            return .real(Double(i))
        default:
            throw InvalidValue(column: column, "expected \(type.rawValue), got \(self.type?.rawValue ?? "null")")
        }
    }
}

extension ShardValue: Comparable {
    /// The one order of protocol.md 7: null first, then by value; text by UTF-8 bytes.
    ///
    /// Values of different types only meet when a caller mixes columns; they order by type
    /// so that the order stays total.
    // Inlinable, like `==` and `hash(into:)`: the daemon's merges and identity maps (other
    // modules) call them per row, and a call across modules copies the value each time.
    @inlinable
    public static func < (lhs: ShardValue, rhs: ShardValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return false
        case (.null, _): return true
        case (_, .null): return false
        case (.int(let a), .int(let b)): return a < b
        case (.real(let a), .real(let b)): return a < b
        case (.int(let a), .real(let b)): return Double(a) < b
        case (.real(let a), .int(let b)): return a < Double(b)
        case (.text(let a), .text(let b)): return a.utf8.lexicographicallyPrecedes(b.utf8)
        case (.bool(let a), .bool(let b)): return !a && b
        case (.timestamp(let a), .timestamp(let b)): return a < b
        default: return lhs.typeRank < rhs.typeRank
        }
    }

    @usableFromInline
    var typeRank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .int, .real: 2
        case .text: 3
        case .timestamp: 4
        }
    }
}

extension ShardValue: Hashable {
    /// Text is equal only when its UTF-8 bytes are (Swift's `String ==` would equate
    /// canonically equivalent strings, which the databases keep apart).
    @inlinable
    public static func == (lhs: ShardValue, rhs: ShardValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.int(let a), .int(let b)): a == b
        case (.real(let a), .real(let b)): a == b
        case (.text(let a), .text(let b)): a.utf8.elementsEqual(b.utf8)
        case (.bool(let a), .bool(let b)): a == b
        case (.timestamp(let a), .timestamp(let b)): a == b
        default: false
        }
    }

    /// Hashes the case and the value (text by its UTF-8 bytes).
    @inlinable
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .int(let i): hasher.combine(1); hasher.combine(i)
        case .real(let d): hasher.combine(2); hasher.combine(d)
        case .text(let s):
            hasher.combine(3)
            for byte in s.utf8 { hasher.combine(byte) }
        case .bool(let b): hasher.combine(4); hasher.combine(b)
        case .timestamp(let t): hasher.combine(5); hasher.combine(t)
        }
    }
}

extension ShardValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByBooleanLiteral
{
    /// `.null`.
    public init(nilLiteral: ()) { self = .null }
    /// `.int`.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// `.real`.
    public init(floatLiteral value: Double) { self = .real(value) }
    /// `.text`.
    public init(stringLiteral value: String) { self = .text(value) }
    /// `.bool`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension ShardValue: Codable {
    /// Reads a value from any decoder: null, bool, integer, double or string (as `.text`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int64.self) {
            self = .int(number)
        } else if let number = try? container.decode(Double.self) {
            self = .real(number)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    /// Writes the value as the protocol does (a timestamp as a `Date`, which encoders render).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .int(let number): try container.encode(number)
        case .real(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        case .bool(let flag): try container.encode(flag)
        case .timestamp(let timestamp): try container.encode(timestamp.date)
        }
    }
}
