/// A value's JSON forms. Requests and answers write timestamps differently, and both forms
/// are part of the wire: clients send six fraction digits (`2026-11-21T09:30:00.000000Z`),
/// the daemon answers with the shortest of none, three or six (`2026-11-21T09:30:00Z`).
extension ShardValue: CustomStringConvertible {
    /// The value as JSON, the way a request sends it (a timestamp as RFC 3339 text with six
    /// fraction digits); `null` for what no column holds (a non-finite double, a timestamp
    /// outside the years 0000 to 9999).
    public var json: JSONValue { (try? requestJSON()) ?? .null }

    /// The value as the protocol writes it: `null`, `80`, `80.5`, `"Tokyo"`, `true`, `"2026-11-21T09:30:00.000000Z"`.
    public var description: String {
        switch self {
        case .timestamp(let timestamp) where !timestamp.isRepresentable:
            return JSONValue.string("\(timestamp.date)").description
        default:
            return json.description
        }
    }

    /// A value read from JSON: integers become `.int`, other numbers `.real`, strings `.text`.
    ///
    /// - Throws: `ShardError` `invalid_value` for an array or object, which no column holds.
    public init(json: JSONValue) throws(ShardError) {
        switch json {
        case .array, .object: throw ShardError(.invalidValue, "\(json) is not a column value (null, number, string or boolean)")
        default: self.init(untyped: json)
        }
    }

    /// A value read as JSON writes it, without a column to type it (an answer's values, raw
    /// SQL's parameters): integers `.int`, other numbers `.real`, strings `.text`. An array or
    /// object, which no column holds, is kept readable as its JSON text rather than lost.
    package init(untyped json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .int(let number): self = .int(number)
        case .double(let number): self = .real(number)
        case .string(let text): self = .text(text)
        case .array, .object: self = .text(json.serialized)
        }
    }

    /// The JSON a request sends for this value.
    /// - Throws: `invalid_value` (naming `column` when given) for a non-finite double or a
    ///   timestamp outside the years 0000 to 9999.
    package func requestJSON(column: String? = nil) throws(ShardError) -> JSONValue {
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
        case .timestamp(let timestamp):
            guard timestamp.isRepresentable else {
                throw ShardError(.invalidValue, "\(column.map { "column \($0): " } ?? "")\(timestamp.date) is outside the years 0000 to 9999 that a timestamp holds",
                                 details: column.map { ["column": .string($0)] } ?? [:])
            }
            return .string(timestamp.microsecondText)
        }
    }

    /// The JSON the daemon answers with (protocol.md 3): timestamps in UTC with `Z`, with
    /// the fraction only as long as it needs to be.
    package var responseJSON: JSONValue {
        switch self {
        case .null: .null
        case .int(let i): .int(i)
        case .real(let d): .double(d)
        case .text(let s): .string(s)
        case .bool(let b): .bool(b)
        case .timestamp(let t): .string(t.description)
        }
    }

    /// The value as the daemon's messages show it: text in double quotes, a timestamp as
    /// its RFC 3339 text, anything else as its literal (`Tokyo` is `"Tokyo"`, 1 is `1`).
    package var messageText: String {
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
