import ShardProtocol

extension ShardValue {
    /// The value of `json` for `column`, exactly as protocol.md 3 allows: no coercion
    /// (`"12"` is not an int, `12.0` is not an int), an integer literal accepted for `real`,
    /// timestamps as RFC 3339 strings, null only for nullable columns.
    /// - Throws: `invalid_value` naming the column and what it expects.
    package init(json: JSONValue, for column: Column, nullable: Bool? = nil) throws(ShardError) {
        let value: ShardValue
        switch (json, column.type) {
        case (.null, _): value = .null
        case (.int(let i), .int), (.int(let i), .real): value = column.type == .int ? .int(i) : .real(Double(i))
        case (.double(let d), .int) where d.rounded() == d && abs(d) >= 9.223372036854775808e18:
            // The parser keeps integer literals beyond Int64 as doubles.
            throw ShardValue.invalid(column, "\(json.summary) is outside the signed 64-bit range")
        case (.double(let d), .real): value = .real(d)
        case (.string(let s), .text): value = .text(s)
        case (.bool(let b), .bool): value = .bool(b)
        case (.string(let s), .timestamp):
            do {
                value = .timestamp(try Timestamp(rfc3339: s))
            } catch {
                throw ShardValue.invalid(column, error.reason)
            }
        default:
            throw ShardValue.invalid(column, "expected \(ShardValue.expected(column.type)), got \(json.summary)")
        }
        do {
            self = try value.checked(for: column.type, nullable: nullable ?? column.nullable, column: column.name)
        } catch {
            throw ShardValue.invalid(column, error.reason)
        }
    }

    private static func invalid(_ column: Column, _ reason: String) -> ShardError {
        ShardError(.invalidValue, "column \(column.name): \(reason)", details: [("column", .string(column.name))])
    }

    private static func expected(_ type: ColumnType) -> String {
        switch type {
        case .int: "an integer"
        case .real: "a number"
        case .text: "a string"
        case .bool: "true or false"
        case .timestamp: "an RFC 3339 timestamp string, e.g. \"2026-11-21T09:30:00Z\""
        }
    }
}
