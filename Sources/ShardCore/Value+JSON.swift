extension Value {
    /// The value of `json` for `column`, exactly as protocol.md 3 allows: no coercion
    /// (`"12"` is not an int, `12.0` is not an int), an integer literal accepted for `real`,
    /// timestamps as RFC 3339 strings, null only for nullable columns.
    /// - Throws: `invalid_value` naming the column and what it expects.
    package init(json: JSONValue, for column: Column, nullable: Bool? = nil) throws(RequestError) {
        let value: Value
        switch (json, column.type) {
        case (.null, _): value = .null
        case (.int(let i), .int), (.int(let i), .real): value = column.type == .int ? .int(i) : .real(Double(i))
        case (.double(let d), .int) where d.rounded() == d && abs(d) >= 9.223372036854775808e18:
            // The parser keeps integer literals beyond Int64 as doubles.
            throw Value.invalid(column, "\(json.summary) is outside the signed 64-bit range")
        case (.double(let d), .real): value = .real(d)
        case (.string(let s), .text): value = .text(s)
        case (.bool(let b), .bool): value = .bool(b)
        case (.string(let s), .timestamp):
            do {
                value = .timestamp(try Timestamp(rfc3339: s))
            } catch {
                throw Value.invalid(column, error.reason)
            }
        default:
            throw Value.invalid(column, "expected \(Value.expected(column.type)), got \(json.summary)")
        }
        do {
            self = try value.checked(for: column.type, nullable: nullable ?? column.nullable, column: column.name)
        } catch {
            throw Value.invalid(column, error.reason)
        }
    }

    /// The JSON form of this value (protocol.md 3): timestamps in UTC with `Z`.
    package var json: JSONValue {
        switch self {
        case .null: .null
        case .int(let i): .int(i)
        case .real(let d): .double(d)
        case .text(let s): .string(s)
        case .bool(let b): .bool(b)
        case .timestamp(let t): .string(t.description)
        }
    }

    private static func invalid(_ column: Column, _ reason: String) -> RequestError {
        RequestError(.invalidValue, "column \(column.name): \(reason)", details: [("column", .string(column.name))])
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

extension JSONValue {
    /// A short description for messages: the kind, and the value when it is short.
    package var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s): return s.utf8.count <= 40 ? "the string \"\(s)\"" : "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
