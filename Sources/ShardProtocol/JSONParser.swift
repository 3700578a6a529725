extension JSONValue {
    /// Reads exactly one JSON value (RFC 8259, strict) from `bytes`, with optional whitespace around it.
    ///
    /// Strict means: UTF-8 is validated, raw control characters in strings, lone surrogates,
    /// duplicate keys in one object and anything after the value are errors. An integer literal that
    /// fits Int64 becomes `.int`; any other number becomes `.double` (correctly rounded); a number
    /// whose double would be infinite is an error. Object members keep their order.
    ///
    /// The parser is iterative, so no input can exhaust the stack; `maxDepth` limits how deep arrays
    /// and objects may nest (a top-level `[]` is depth 1).
    /// Keep `maxDepth` modest: releasing or writing a value nests one call per level.
    ///
    /// Two keys count as duplicates when they are equal as Swift `String`s (canonically
    /// equivalent), the same comparison `JSONObject`'s subscript uses to look a key up.
    /// - Throws: `JSONParseError` with the byte offset of the first problem.
    package static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        try bytes.withMemoryRebound(to: UInt8.self) { (buffer) throws(JSONParseError) -> JSONValue in
            var parser = JSONParser(buffer, maxDepth: maxDepth)
            return try parser.parseDocument()
        }
    }

    /// Reads exactly one JSON value from `bytes`; see `parse(_:maxDepth:)` for the rules.
    package static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var parser = JSONParser(buffer, maxDepth: maxDepth)
                return try parser.parseDocument()
            }
        }
        return try result.get()
    }

    /// Reads exactly one JSON value from the UTF-8 of `text`; see `parse(_:maxDepth:)` for the rules.
    package static func parse(_ text: String, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                var parser = JSONParser(buffer, maxDepth: maxDepth)
                return try parser.parseDocument()
            }
        }
        return try result.get()
    }
}

/// A single-pass reader of JSON over raw bytes, with an explicit stack of open containers
/// instead of recursion.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private let end: Int
    private let maxDepth: Int
    private var index = 0
    /// Reused for strings with escapes.
    private var scratch: [UInt8] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.end = bytes.count
        self.maxDepth = maxDepth
    }

    /// An array or object that has been opened and not yet closed.
    private struct Frame {
        var isObject: Bool
        var elements: [JSONValue] = []
        var members: [(key: String, value: JSONValue)] = []
        /// The key whose value is being read (objects only).
        var key = ""
        /// Built once an object has enough members that a linear duplicate check gets slow.
        var keySet: Set<String>? = nil
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if end == 0 {
            throw JSONParseError("the input is empty; expected a JSON value", at: 0)
        }
        let value = try parseValue()
        skipWhitespace()
        if index < end {
            throw JSONParseError("unexpected \(Self.describe(bytes[index])) after the JSON value; a line holds exactly one value", at: index)
        }
        return value
    }

    // MARK: - Structure

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        var stack: [Frame] = []
        var value: JSONValue
        nextValue: while true {
            skipWhitespace()
            guard index < end else { throw endOfInput(expecting: "a value") }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                try checkDepth(stack.count)
                index += 1
                skipWhitespace()
                if index < end, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    value = .object(JSONObject())
                } else {
                    var frame = Frame(isObject: true)
                    // One allocation for a typical request object instead of growing 1, 2, 4, 8.
                    frame.members.reserveCapacity(8)
                    try readKey(into: &frame, afterComma: false)
                    stack.append(frame)
                    continue nextValue
                }
            case UInt8(ascii: "["):
                try checkDepth(stack.count)
                index += 1
                skipWhitespace()
                if index < end, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    value = .array([])
                } else {
                    var frame = Frame(isObject: false)
                    frame.elements.reserveCapacity(4)
                    stack.append(frame)
                    continue nextValue
                }
            case UInt8(ascii: "\""):
                value = .string(try parseString())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                value = try parseNumber()
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case let byte:
                throw JSONParseError("unexpected \(Self.describe(byte)); expected a value (object, array, string, number, true, false or null)", at: index)
            }

            // A value is complete: add it to the innermost open container, closing containers as they end.
            while !stack.isEmpty {
                let top = stack.count - 1
                skipWhitespace()
                if stack[top].isObject {
                    stack[top].members.append((key: stack[top].key, value: value))
                    guard index < end else { throw endOfInput(expecting: "',' or '}' after an object member") }
                    switch bytes[index] {
                    case UInt8(ascii: ","):
                        index += 1
                        try readKey(into: &stack[top], afterComma: true)
                        continue nextValue
                    case UInt8(ascii: "}"):
                        index += 1
                        value = .object(JSONObject(stack.removeLast().members))
                    case let byte:
                        throw JSONParseError("expected ',' or '}' after an object member, found \(Self.describe(byte))", at: index)
                    }
                } else {
                    stack[top].elements.append(value)
                    guard index < end else { throw endOfInput(expecting: "',' or ']' after an array element") }
                    switch bytes[index] {
                    case UInt8(ascii: ","):
                        index += 1
                        skipWhitespace()
                        if index < end, bytes[index] == UInt8(ascii: "]") {
                            throw JSONParseError("trailing comma before ']'", at: index)
                        }
                        continue nextValue
                    case UInt8(ascii: "]"):
                        index += 1
                        value = .array(stack.removeLast().elements)
                    case let byte:
                        throw JSONParseError("expected ',' or ']' after an array element, found \(Self.describe(byte))", at: index)
                    }
                }
            }
            return value
        }
    }

    private func checkDepth(_ open: Int) throws(JSONParseError) {
        if open >= maxDepth {
            throw JSONParseError("arrays and objects nest deeper than \(maxDepth) level\(maxDepth == 1 ? "" : "s")", at: index)
        }
    }

    /// Reads `"key":` (with whitespace) into `frame`, refusing a key the object already has.
    private mutating func readKey(into frame: inout Frame, afterComma: Bool) throws(JSONParseError) {
        skipWhitespace()
        guard index < end else { throw endOfInput(expecting: "a string key") }
        guard bytes[index] == UInt8(ascii: "\"") else {
            if afterComma, bytes[index] == UInt8(ascii: "}") {
                throw JSONParseError("trailing comma before '}'", at: index)
            }
            throw JSONParseError("expected a string key in double quotes, found \(Self.describe(bytes[index]))", at: index)
        }
        let keyOffset = index
        let key = try parseString()
        if isDuplicate(key, in: &frame) {
            throw JSONParseError("duplicate key \(Self.quote(key)) in one object", at: keyOffset)
        }
        skipWhitespace()
        guard index < end else { throw endOfInput(expecting: "':' after an object key") }
        guard bytes[index] == UInt8(ascii: ":") else {
            throw JSONParseError("expected ':' after an object key, found \(Self.describe(bytes[index]))", at: index)
        }
        index += 1
        frame.key = key
    }

    private func isDuplicate(_ key: String, in frame: inout Frame) -> Bool {
        if frame.keySet != nil {
            return !frame.keySet!.insert(key).inserted
        }
        for member in frame.members where member.key == key {
            return true
        }
        if frame.members.count >= 8 {
            var keys = Set(frame.members.lazy.map(\.key))
            keys.insert(key)
            frame.keySet = keys
        }
        return false
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for k in 0..<count {
            guard index < end, bytes[index] == text[k] else {
                throw JSONParseError("invalid literal; expected \(literal)", at: start)
            }
            index += 1
        }
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    // MARK: - Strings

    /// Reads a string starting at its opening quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        let open = index
        let start = index + 1
        var cursor = start
        while cursor < end {
            let byte = bytes[cursor]
            if byte >= 0x80 {
                index = cursor
                try skipUTF8Sequence()
                cursor = index
            } else if byte == UInt8(ascii: "\"") {
                index = cursor + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<cursor]), as: UTF8.self)
            } else if byte == UInt8(ascii: "\\") {
                index = cursor
                return try parseEscapedString(from: start, open: open)
            } else if byte < 0x20 {
                index = cursor
                throw controlCharacter(byte)
            } else {
                cursor += 1
            }
        }
        throw JSONParseError("unexpected end of input in the string that starts at byte \(open); expected '\"'", at: end)
    }

    /// The slow path of `parseString`, from the first backslash on: unescaped text goes through `scratch`.
    private mutating func parseEscapedString(from start: Int, open: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        var run = start
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: scratch, as: UTF8.self)
                } else if byte == UInt8(ascii: "\\") {
                    try appendEscape()
                    run = index
                } else {
                    throw controlCharacter(byte)
                }
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipUTF8Sequence()
            }
        }
        throw JSONParseError("unexpected end of input in the string that starts at byte \(open); expected '\"'", at: end)
    }

    /// Decodes the escape at `index` (a backslash) into `scratch`.
    private mutating func appendEscape() throws(JSONParseError) {
        let escape = index
        index += 1
        guard index < end else { throw endOfInput(expecting: "an escape character after '\\'") }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(letter)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try readHex4(escape: escape)
            var scalar = unit
            switch unit {
            case 0xD800...0xDBFF:
                guard end - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    throw JSONParseError("lone surrogate \\u\(Self.hex(unit)); a high surrogate must be followed by a low surrogate escape \\uDC00-\\uDFFF", at: escape)
                }
                let lowEscape = index
                index += 2
                let low = try readHex4(escape: lowEscape)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw JSONParseError("lone surrogate \\u\(Self.hex(unit)); a high surrogate must be followed by a low surrogate escape \\uDC00-\\uDFFF, not \\u\(Self.hex(low))", at: escape)
                }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            case 0xDC00...0xDFFF:
                throw JSONParseError("lone surrogate \\u\(Self.hex(unit)); a low surrogate must follow a high surrogate escape \\uD800-\\uDBFF", at: escape)
            default:
                break
            }
            appendUTF8(scalar)
        default:
            throw JSONParseError("invalid escape \\\(Self.printable(letter)); JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX", at: escape)
        }
    }

    private mutating func readHex4(escape: Int) throws(JSONParseError) -> UInt32 {
        var unit: UInt32 = 0
        for _ in 0..<4 {
            guard index < end else { throw endOfInput(expecting: "four hex digits after \\u") }
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError("expected four hex digits after \\u", at: escape)
            }
            unit = unit << 4 | UInt32(digit)
            index += 1
        }
        return unit
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(0xC0 | UInt8(scalar >> 6))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(0xE0 | UInt8(scalar >> 12))
            scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        default:
            scratch.append(0xF0 | UInt8(scalar >> 18))
            scratch.append(0x80 | UInt8(scalar >> 12 & 0x3F))
            scratch.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            scratch.append(0x80 | UInt8(scalar & 0x3F))
        }
    }

    /// Steps over one well-formed UTF-8 sequence of two to four bytes (Unicode 15, table 3-7),
    /// refusing overlong forms, encoded surrogates and code points above U+10FFFF.
    private mutating func skipUTF8Sequence() throws(JSONParseError) {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        case 0x80...0xBF:
            throw JSONParseError("invalid UTF-8 in a string: continuation byte 0x\(Self.hex(lead)) without a lead byte", at: index)
        case 0xC0, 0xC1:
            throw JSONParseError("invalid UTF-8 in a string: byte 0x\(Self.hex(lead)) starts an overlong encoding", at: index)
        default:
            throw JSONParseError("invalid UTF-8 in a string: byte 0x\(Self.hex(lead)) never occurs in UTF-8", at: index)
        }
        guard index + 1 < end, (low...high).contains(bytes[index + 1]) else {
            throw invalidSequence(lead: lead)
        }
        if length > 2 {
            guard index + 2 < end, bytes[index + 2] & 0xC0 == 0x80 else { throw invalidSequence(lead: lead) }
            if length > 3 {
                guard index + 3 < end, bytes[index + 3] & 0xC0 == 0x80 else { throw invalidSequence(lead: lead) }
            }
        }
        index += length
    }

    private func invalidSequence(lead: UInt8) -> JSONParseError {
        let reason: String
        let second = index + 1 < end ? bytes[index + 1] : 0
        switch (lead, second) {
        case (0xE0, 0x80...0x9F), (0xF0, 0x80...0x8F): reason = "an overlong encoding"
        case (0xED, 0xA0...0xBF): reason = "an encoded surrogate (U+D800-U+DFFF)"
        case (0xF4, 0x90...0xBF): reason = "a code point above U+10FFFF"
        default: reason = "a truncated or malformed sequence"
        }
        return JSONParseError("invalid UTF-8 in a string: \(reason) starting with byte 0x\(Self.hex(lead))", at: index)
    }

    private func controlCharacter(_ byte: UInt8) -> JSONParseError {
        JSONParseError("raw control character 0x\(Self.hex(byte)) in a string; write it escaped, e.g. \\u00\(Self.hex(byte))", at: index)
    }

    // MARK: - Numbers

    /// 10^0 ... 10^22: every one exact in a Double.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Reads a number per the JSON grammar: an integer literal that fits Int64 is `.int`; anything
    /// else is the correctly rounded `.double`.
    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }

        // All digits of integer and fraction, as long as there are at most 19 of them.
        var mantissa: UInt64 = 0
        var digits = 0
        guard index < end, Self.isDigit(bytes[index]) else {
            if index < end {
                throw JSONParseError("expected a digit after '-', found \(Self.describe(bytes[index]))", at: index)
            }
            throw endOfInput(expecting: "a digit after '-'")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            digits = 1
            if index < end, Self.isDigit(bytes[index]) {
                throw JSONParseError("numbers may not have leading zeros", at: start)
            }
        } else {
            while index < end, Self.isDigit(bytes[index]) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
        }

        var isInteger = true
        var fractionDigits = 0
        if index < end, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < end, Self.isDigit(bytes[index]) else {
                if index < end {
                    throw JSONParseError("expected a digit after the decimal point, found \(Self.describe(bytes[index]))", at: index)
                }
                throw endOfInput(expecting: "a digit after the decimal point")
            }
            while index < end, Self.isDigit(bytes[index]) {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0")) }
                digits += 1
                fractionDigits += 1
                index += 1
            }
        }

        var exponent = 0
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            var negativeExponent = false
            if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            guard index < end, Self.isDigit(bytes[index]) else {
                if index < end {
                    throw JSONParseError("expected a digit in the exponent, found \(Self.describe(bytes[index]))", at: index)
                }
                throw endOfInput(expecting: "a digit in the exponent")
            }
            while index < end, Self.isDigit(bytes[index]) {
                // Saturates: beyond this the exact value only matters to strtod, which reads the text.
                if exponent < 1_000_000 { exponent = exponent * 10 + Int(bytes[index] &- UInt8(ascii: "0")) }
                index += 1
            }
            if negativeExponent { exponent = -exponent }
        }

        if digits <= 19 {
            if isInteger {
                if negative {
                    if mantissa <= UInt64(Int64.max) + 1 { return .int(Int64(bitPattern: 0 &- mantissa)) }
                } else if mantissa <= UInt64(Int64.max) {
                    return .int(Int64(mantissa))
                }
            } else if mantissa == 0 {
                return .double(negative ? -0.0 : 0.0)
            } else {
                // Exact operands and one IEEE operation: correctly rounded (Clinger's fast path).
                let power = exponent - fractionDigits
                if mantissa <= 1 << 53, power >= -22, power <= 22 {
                    var value = Double(mantissa)
                    if power < 0 { value /= Self.powersOfTen[-power] } else { value *= Self.powersOfTen[power] }
                    return .double(negative ? -value : value)
                }
            }
        }

        // The general case: the C library's correctly rounded strtod (C locale) on just this number.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError("number out of range: its magnitude exceeds the largest double (about 1.8e308)", at: start)
        }
        return .double(value)
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    // MARK: - Messages

    private func endOfInput(expecting what: String) -> JSONParseError {
        JSONParseError("unexpected end of input; expected \(what)", at: end)
    }

    /// `'x'` for a printable ASCII character, else `byte 0xNN`.
    private static func describe(_ byte: UInt8) -> String {
        if byte > 0x20, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(hex(byte))"
    }

    private static func printable(_ byte: UInt8) -> String {
        byte > 0x20 && byte < 0x7F ? String(Character(Unicode.Scalar(byte))) : "(byte 0x\(hex(byte)))"
    }

    private static func hex<T: BinaryInteger>(_ value: T) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        let width = T.self == UInt8.self ? 2 : 4
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A key for a message: JSON-quoted, shortened when long.
    private static func quote(_ key: String) -> String {
        var shown = key
        if key.unicodeScalars.count > 40 {
            shown = String(String.UnicodeScalarView(key.unicodeScalars.prefix(40))) + "..."
        }
        return JSONValue.string(shown).serialized
    }
}
