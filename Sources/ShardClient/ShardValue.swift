import Foundation

/// One column value, for programs without model types (protocol.md 3).
///
/// Literals work where a `ShardValue` is expected: `"Tokyo"`, `80`, `80.5`, `true`, `nil`.
/// The daemon sends timestamps as RFC 3339 text, so a timestamp column read through the dynamic
/// API arrives as `.text`; `dateValue` reads it.
public enum ShardValue: Sendable, Hashable, CustomStringConvertible {
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
    /// A `timestamp` column; sent as RFC 3339 UTC with microseconds.
    case timestamp(Date)

    /// Whether this is `.null`.
    public var isNull: Bool { self == .null }

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
        case .timestamp(let date): return date
        case .text(let text): return RFC3339.date(from: text)
        default: return nil
        }
    }

    /// The value as the protocol writes it: `null`, `80`, `80.5`, `"Tokyo"`, `true`, `"2026-11-21T09:30:00.000000Z"`.
    public var description: String {
        switch self {
        case .timestamp(let date): return JSONValue.string(RFC3339.string(from: date) ?? "\(date)").description
        default: return JSONValue(core: (try? coreValue()) ?? .null).description
        }
    }

    /// The value as JSON (a timestamp as its RFC 3339 text).
    public var json: JSONValue { JSONValue(core: (try? coreValue()) ?? .null) }

    /// A value read from JSON: integers become `.int`, other numbers `.real`, strings `.text`.
    ///
    /// - Throws: `ShardError` `invalid_value` for an array or object, which no column holds.
    public init(json: JSONValue) throws(ShardError) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .real(number)
        case .string(let text): self = .text(text)
        case .array, .object: throw ShardError(.invalidValue, "\(json) is not a column value (null, number, string or boolean)")
        }
    }

    /// A value read from ShardCore JSON (an answer of the daemon).
    init(core: CoreJSON) {
        switch core {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .real(number)
        case .string(let text): self = .text(text)
        // Columns never hold these; kept readable rather than lost.
        case .array, .object: self = .text(core.serialized)
        }
    }

    /// The JSON to send.
    /// - Throws: `invalid_value` for a non-finite double or a date outside years 0000-9999.
    func coreValue(column: String? = nil) throws(ShardError) -> CoreJSON {
        switch self {
        case .null: return .null
        case .int(let number): return .int(number)
        case .real(let number):
            guard number.isFinite else {
                throw ShardError(.invalidValue, "\(column.map { "column \($0): " } ?? "")\(number) is not a finite number; real columns hold finite doubles",
                                 details: column.map { ["column": .string($0)] } ?? [:])
            }
            return .double(number)
        case .text(let text): return .string(text)
        case .bool(let flag): return .bool(flag)
        case .timestamp(let date):
            guard let text = RFC3339.string(from: date) else {
                throw ShardError(.invalidValue, "\(column.map { "column \($0): " } ?? "")\(date) is outside the years 0000 to 9999 that a timestamp holds",
                                 details: column.map { ["column": .string($0)] } ?? [:])
            }
            return .string(text)
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

    /// Writes the value as the protocol does (a timestamp as RFC 3339 text).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .int(let number): try container.encode(number)
        case .real(let number): try container.encode(number)
        case .text(let text): try container.encode(text)
        case .bool(let flag): try container.encode(flag)
        case .timestamp(let date): try container.encode(date)
        }
    }
}
