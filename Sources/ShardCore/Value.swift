/// One column value, as the protocol and both backends see it (protocol.md 3).
///
/// The daemon never coerces between cases: a `.text("12")` is not an int.
package enum Value: Sendable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case bool(Bool)
    case timestamp(Timestamp)

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

    package var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// A value that does not fit its column (protocol.md code `invalid_value`).
package struct InvalidValue: Error, Sendable, Equatable, CustomStringConvertible {
    package var column: String?
    package var reason: String

    package init(column: String? = nil, _ reason: String) {
        self.column = column
        self.reason = reason
    }

    package var description: String {
        if let column { return "column \(column): \(reason)" }
        return reason
    }
}

extension Value {
    /// Checks that this value may be stored in a column of `type`.
    ///
    /// An integer is accepted for a `real` column (protocol.md 3) and becomes a double;
    /// NaN and infinities are refused because neither JSON nor an order can hold them.
    package func checked(for type: ColumnType, nullable: Bool, column: String? = nil) throws(InvalidValue) -> Value {
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

extension Value: Comparable {
    /// The one order of protocol.md 7: null first, then by value; text by UTF-8 bytes.
    ///
    /// Values of different types only meet when a caller mixes columns; they order by type
    /// so that the order stays total.
    package static func < (lhs: Value, rhs: Value) -> Bool {
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

    private var typeRank: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .int, .real: 2
        case .text: 3
        case .timestamp: 4
        }
    }
}

extension Value: CustomStringConvertible {
    package var description: String {
        switch self {
        case .null: "null"
        case .int(let i): String(i)
        case .real(let d): String(d)
        case .text(let s): "\"\(s)\""
        case .bool(let b): String(b)
        case .timestamp(let t): t.description
        }
    }
}

extension Value: Hashable {
    /// Text is equal only when its UTF-8 bytes are (Swift's `String ==` would equate
    /// canonically equivalent strings, which the databases keep apart).
    package static func == (lhs: Value, rhs: Value) -> Bool {
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

    package func hash(into hasher: inout Hasher) {
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
