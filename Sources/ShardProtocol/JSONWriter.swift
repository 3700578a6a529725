extension JSONValue {
    /// Appends the compact JSON text of this value (no spaces) to `output`.
    ///
    /// Strings escape only `"`, `\` and control characters below U+0020 (`\n \r \t \b \f`, else
    /// `\u00XX`); `/` and non-ASCII stay raw UTF-8. Doubles use the shortest text that reads back
    /// to the same bits (`Double.description`: `80.0`, `0.1`, `1e-05`, `1e+16`, all valid JSON) and
    /// always carry a fraction or exponent, so they read back as `.double`. Doubles that are not
    /// finite cannot come from the parser or from `Value`; should one appear anyway it is written as
    /// `null`, since JSON has no form for it.
    /// Nested arrays and objects are written with one call per level.
    package func write(into output: inout [UInt8]) {
        switch self {
        case .null:
            JSONWriter.appendNull(&output)
        case .bool(let flag):
            JSONWriter.appendBool(flag, &output)
        case .int(let number):
            JSONWriter.appendInt(number, &output)
        case .double(let number):
            JSONWriter.appendDouble(number, &output)
        case .string(let string):
            JSONWriter.appendString(string, &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            var first = true
            for element in elements {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            object.write(into: &output)
        }
    }

    /// The compact JSON text of this value (see `write(into:)`).
    package var serialized: String {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        write(into: &output)
        return String(decoding: output, as: UTF8.self)
    }
}

extension JSONObject {
    /// Appends `{"key":value,...}` with the members in their order.
    package func write(into output: inout [UInt8]) {
        output.append(UInt8(ascii: "{"))
        writeMembers(into: &output, afterOthers: false)
        output.append(UInt8(ascii: "}"))
    }

    /// Appends `"key":value,...` without the braces, led by a comma when `afterOthers` (for
    /// members written behind others into the same object).
    package func writeMembers(into output: inout [UInt8], afterOthers: Bool) {
        var first = !afterOthers
        for member in members {
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(member.key, &output)
            output.append(UInt8(ascii: ":"))
            member.value.write(into: &output)
        }
    }
}

/// The byte-level pieces of `JSONValue.write(into:)`.
enum JSONWriter {
    @inline(__always)
    static func appendASCII(_ text: StaticString, _ output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    static func appendNull(_ output: inout [UInt8]) {
        appendASCII("null", &output)
    }

    @inline(__always)
    static func appendBool(_ flag: Bool, _ output: inout [UInt8]) {
        if flag {
            appendASCII("true", &output)
        } else {
            appendASCII("false", &output)
        }
    }

    static func appendInt(_ number: Int64, _ output: inout [UInt8]) {
        if number >= 0, number < 10 {
            output.append(UInt8(ascii: "0") + UInt8(number))
            return
        }
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        // 20 digits hold UInt64.max; filled from the end.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var position = 20
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position..<20]))
        }
    }

    static func appendDouble(_ number: Double, _ output: inout [UInt8]) {
        guard number.isFinite else {
            // Unreachable through the parser and Value, which refuse non-finite numbers.
            appendNull(&output)
            return
        }
        // Swift prints the shortest round-tripping digits as "[-]D.D" or "[-]D[.D]e(+|-)DD", every
        // form of which JSON accepts, with ".0" on integral values below 2^53 and an exponent above.
        var text = number.description
        text.withUTF8 { bytes in
            output.append(contentsOf: bytes)
            // Defensive: never let a double read back as an integer.
            if !bytes.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
                appendASCII(".0", &output)
            }
        }
    }

    /// Whether a byte must be escaped inside a JSON string: `"`, `\` and control characters.
    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    static func appendString(_ string: String, _ output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            appendEscaped(bytes, &output)
        }
        if done == nil {
            var copy = string
            copy.withUTF8 { appendEscaped($0, &output) }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, _ output: inout [UInt8]) {
        var run = 0
        for index in 0..<bytes.count where needsEscape(bytes[index]) {
            if run < index { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index])) }
            run = index + 1
            let byte = bytes[index]
            output.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            default:
                let hexDigits: StaticString = "0123456789abcdef"
                appendASCII("u00", &output)
                output.append(hexDigits.utf8Start[Int(byte >> 4)])
                output.append(hexDigits.utf8Start[Int(byte & 0x0F)])
            }
        }
        if run < bytes.count { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count])) }
    }
}
