import CLibPQ
import ShardCore
import ShardProtocol

/// PostgreSQL's binary wire format for the values of protocol.md 3.
///
/// Binary is exact where text is not necessarily: a double is its 8 bytes, a timestamp is one
/// integer of microseconds, text is its UTF-8 bytes unchanged.
extension ShardValue {
    /// The declared parameter type and the binary bytes (nil for null).
    var postgresParameter: (type: PostgresType, bytes: [UInt8]?) {
        switch self {
        case .null:
            return (.unspecified, nil)
        case .int(let i):
            return (.int8, bigEndianBytes(i))
        case .real(let d):
            return (.float8, bigEndianBytes(d.bitPattern))
        case .text(let s):
            return (.text, Array(s.utf8))
        case .bool(let b):
            return (.bool, [b ? 1 : 0])
        case .timestamp(let t):
            // No overflow: Timestamp's years 0000...9999 are far inside Int64 either way.
            return (.timestamptz, bigEndianBytes(t.microseconds &- Timestamp.postgresEpochOffset))
        }
    }

    /// Decodes one non-null binary column of PostgreSQL type `type` as `wanted`.
    ///
    /// A type that does not fit (text asked for an integer column) is refused rather than
    /// converted; an integer is accepted where a real is wanted, as in `ShardValue.checked`.
    init(postgresBinary bytes: UnsafeRawBufferPointer, type: PostgresType, as wanted: ColumnType) throws(InvalidValue) {
        func mismatch() -> InvalidValue {
            InvalidValue("expected \(wanted.rawValue), the database returned \(type)")
        }
        switch wanted {
        case .int:
            switch type {
            case .int8, .int4, .int2:
                self = .int(try readInteger(bytes, type: type))
            case .numeric:
                let number = try PostgresNumeric(binary: bytes)
                guard let i = number.int64 else {
                    throw InvalidValue("expected int, the database returned the numeric \(number.text) (not an integer, or too large)")
                }
                self = .int(i)
            default:
                throw mismatch()
            }
        case .real:
            switch type {
            case .float8:
                self = .real(Double(bitPattern: try readUInt64(bytes, type: type)))
            case .float4:
                guard bytes.count == 4 else { throw InvalidValue("a \(type) of \(bytes.count) bytes") }
                self = .real(Double(Float(bitPattern: UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self)))))
            case .int8, .int4, .int2:
                self = .real(Double(try readInteger(bytes, type: type)))
            case .numeric:
                let number = try PostgresNumeric(binary: bytes)
                guard let d = number.double else { throw InvalidValue("the numeric \(number.text) is not a number") }
                self = .real(d)
            default:
                throw mismatch()
            }
        case .text:
            switch type {
            case .text, .varchar, .bpchar, .name, .unknown, .json:
                self = .text(String(decoding: bytes, as: UTF8.self))
            case .jsonb:
                // jsonb's binary form is a version byte (1) and then the JSON text.
                guard bytes.first == 1 else { throw InvalidValue("an unknown jsonb format version") }
                self = .text(String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self))
            default:
                throw mismatch()
            }
        case .bool:
            guard type == .bool else { throw mismatch() }
            guard bytes.count == 1 else { throw InvalidValue("a boolean of \(bytes.count) bytes") }
            self = .bool(bytes[0] != 0)
        case .timestamp:
            guard type == .timestamptz || type == .timestamp else { throw mismatch() }
            let raw = Int64(bitPattern: try readUInt64(bytes, type: type))
            if raw == .max || raw == .min { throw InvalidValue("an infinite timestamp has no RFC 3339 form") }
            let (micros, overflow) = raw.addingReportingOverflow(Timestamp.postgresEpochOffset)
            guard !overflow, micros >= Timestamp.earliest.microseconds, micros <= Timestamp.latest.microseconds else {
                throw InvalidValue("a timestamp outside the years 0000 to 9999")
            }
            self = .timestamp(Timestamp(microseconds: micros))
        }
    }
}

private func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

private func readUInt64(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(InvalidValue) -> UInt64 {
    guard bytes.count == 8 else { throw InvalidValue("a \(type) of \(bytes.count) bytes") }
    return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
}

private func readInteger(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(InvalidValue) -> Int64 {
    switch (type, bytes.count) {
    case (.int8, 8): return Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
    case (.int4, 4): return Int64(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
    case (.int2, 2): return Int64(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
    default: throw InvalidValue("a \(type) of \(bytes.count) bytes")
    }
}

/// A `numeric` as PostgreSQL sends it, turned into its decimal text.
///
/// Binary form: ndigits, weight, sign, dscale (each 16 bits) and then `ndigits` base-10000
/// digits; the first digit is worth 10000^weight.
struct PostgresNumeric: Sendable, Equatable {
    /// Decimal text without exponent, e.g. `-12.5`, or `NaN`, `Infinity`, `-Infinity`.
    var text: String
    var isInteger: Bool

    init(binary bytes: UnsafeRawBufferPointer) throws(InvalidValue) {
        func field(_ index: Int) -> Int {
            Int(UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self)))
        }
        guard bytes.count >= 8 else { throw InvalidValue("a numeric of \(bytes.count) bytes") }
        let ndigits = field(0)
        let weight = Int(Int16(truncatingIfNeeded: field(1)))
        let sign = field(2)
        guard bytes.count == 8 + 2 * ndigits else { throw InvalidValue("a numeric of \(bytes.count) bytes") }
        switch sign {
        case 0xC000: text = "NaN"; isInteger = false; return
        case 0xD000: text = "Infinity"; isInteger = false; return
        case 0xF000: text = "-Infinity"; isInteger = false; return
        case 0x0000, 0x4000: break
        default: throw InvalidValue("a numeric with an unknown sign")
        }
        let digits = (0..<ndigits).map { field(4 + $0) }
        func digit(atPower power: Int) -> Int {
            let index = weight - power
            return index >= 0 && index < ndigits ? digits[index] : 0
        }
        func padded(_ d: Int) -> String {
            let s = String(d)
            return String(repeating: "0", count: 4 - s.count) + s
        }
        var integer = ""
        if weight >= 0 {
            integer = String(digit(atPower: weight))
            if weight >= 1 {
                for power in stride(from: weight - 1, through: 0, by: -1) { integer += padded(digit(atPower: power)) }
            }
        } else {
            integer = "0"
        }
        var fraction = ""
        let lowest = weight - ndigits + 1
        if lowest < 0 {
            for power in stride(from: -1, through: lowest, by: -1) { fraction += padded(digit(atPower: power)) }
            while fraction.last == "0" { fraction.removeLast() }
        }
        let negative = sign == 0x4000 && (integer != "0" || !fraction.isEmpty)
        text = (negative ? "-" : "") + integer + (fraction.isEmpty ? "" : "." + fraction)
        isInteger = fraction.isEmpty
    }

    init(text: String) {
        self.text = text
        isInteger = !text.contains(where: { !($0.isASCII && ($0.isNumber || $0 == "-" || $0 == "+")) })
    }

    /// The value when it is an integer that fits 64 bits.
    var int64: Int64? { isInteger ? Int64(text) : nil }

    /// The nearest double (exact decimal text parses to the correctly rounded double).
    var double: Double? { Double(text) }
}
