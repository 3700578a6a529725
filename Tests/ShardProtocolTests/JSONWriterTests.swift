import Testing
import ShardCore
import ShardProtocol

@Suite struct JSONWriterTests {
    @Test func scalarsAreWrittenCompactly() {
        #expect(JSONValue.null.serialized == "null")
        #expect(JSONValue.bool(true).serialized == "true")
        #expect(JSONValue.bool(false).serialized == "false")
        #expect(JSONValue.int(0).serialized == "0")
        #expect(JSONValue.int(7).serialized == "7")
        #expect(JSONValue.int(-5).serialized == "-5")
        #expect(JSONValue.int(1_234_567_890).serialized == "1234567890")
        #expect(JSONValue.int(.max).serialized == "9223372036854775807")
        #expect(JSONValue.int(.min).serialized == "-9223372036854775808")
    }

    @Test func doublesUseTheShortestRoundTrippingTextAndStayDoubles() {
        let cases: [(Double, String)] = [
            (80, "80.0"), (0.1, "0.1"), (-2.5, "-2.5"), (1e-5, "1e-05"), (0.0001, "0.0001"),
            (.leastNonzeroMagnitude, "5e-324"), (1e16, "1e+16"), (1e15, "1000000000000000.0"), (-0.0, "-0.0"), (0, "0.0"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (9_007_199_254_740_992, "9007199254740992.0"), (123_456_789_012_345_680, "1.2345678901234568e+17"),
        ]
        for (number, text) in cases {
            #expect(JSONValue.double(number).serialized == text)
            // Valid JSON that reads back as the same double, never as an int.
            let back = try? JSONValue.parse(text)
            #expect(back.map { identical($0, .double(number)) } == true, "\(text) read back as \(String(describing: back))")
        }
    }

    @Test func nonFiniteDoublesAreWrittenAsNull() {
        #expect(JSONValue.double(.infinity).serialized == "null")
        #expect(JSONValue.double(-.infinity).serialized == "null")
        #expect(JSONValue.double(.nan).serialized == "null")
        #expect(JSONValue.array([.double(.nan), .int(1)]).serialized == "[null,1]")
    }

    @Test func stringsEscapeOnlyQuotesBackslashesAndControlCharacters() {
        #expect(JSONValue.string("").serialized == #""""#)
        #expect(JSONValue.string(#"a"b\c"#).serialized == #""a\"b\\c""#)
        #expect(JSONValue.string("\n\r\t\u{8}\u{C}").serialized == #""\n\r\t\b\f""#)
        #expect(JSONValue.string("\u{0}\u{1}\u{1F}x").serialized == #""\u0000\u0001\u001fx""#)
        #expect(JSONValue.string("a/b").serialized == #""a/b""#)
        #expect(JSONValue.string("\u{7F}").serialized == "\"\u{7F}\"")
        #expect(JSONValue.string("é Tōkyō 東京 😀").serialized == "\"é Tōkyō 東京 😀\"")
        #expect(Array(JSONValue.string("é😀").serialized.utf8) == [0x22, 0xC3, 0xA9, 0xF0, 0x9F, 0x98, 0x80, 0x22])
        #expect(JSONValue.string("\u{2028}").serialized == "\"\u{2028}\"")
    }

    @Test func containersKeepOrderAndHaveNoSpaces() {
        let value = JSONValue.object([
            "id": .int(7), "ok": .bool(true),
            "objects": .array([.object(["key": .array([.string("Report"), .array([.int(1)]), .string("asia")])]), .null]),
            "empty": .object([:]), "list": .array([]), "a": .double(1.5),
        ])
        #expect(value.serialized == #"{"id":7,"ok":true,"objects":[{"key":["Report",[1],"asia"]},null],"empty":{},"list":[],"a":1.5}"#)
    }

    @Test func writeAppendsToExistingBytes() {
        var output = Array("prefix ".utf8)
        JSONValue.array([.int(1), .string("x")]).write(into: &output)
        output.append(0x0A)
        #expect(output == Array("prefix [1,\"x\"]\n".utf8))
    }

    @Test func objectBuildingHelpersKeepOrder() {
        var object: JSONObject = ["op": .string("ping")]
        object.append("id", .int(3))
        object.append("missing", ifPresent: nil)
        object.append("present", ifPresent: .null)
        #expect(object.keys == ["op", "id", "present"])
        #expect(JSONValue.object(object).serialized == #"{"op":"ping","id":3,"present":null}"#)
    }

    @Test func randomValuesRoundTripExactly() throws {
        var random = JSONTestRandom(seed: 0x5EED_0001)
        var failures = 0
        for _ in 0..<5_000 {
            let value = random.value(depth: 4)
            var bytes: [UInt8] = []
            value.write(into: &bytes)
            do {
                let back = try JSONValue.parse(bytes)
                if !identical(back, value) {
                    failures += 1
                    Issue.record("did not round-trip: \(value.serialized)")
                }
            } catch {
                failures += 1
                Issue.record("\(error): \(String(decoding: bytes, as: UTF8.self))")
            }
            if failures > 5 { break }
        }
    }

    @Test func randomDoublesRoundTripBitForBit() throws {
        var random = JSONTestRandom(seed: 0xD0_0B1E)
        var checked = 0
        while checked < 100_000 {
            let number = random.double()
            checked += 1
            let text = JSONValue.double(number).serialized
            let back = try JSONValue.parse(text)
            guard case .double(let read) = back, read.bitPattern == number.bitPattern else {
                Issue.record("\(number.bitPattern): \(text) read back as \(back)")
                return
            }
        }
    }

    @Test func randomStringsRoundTripByteForByte() throws {
        var random = JSONTestRandom(seed: 42)
        for _ in 0..<5_000 {
            let string = random.string(maxLength: 40)
            let back = try JSONValue.parse(JSONValue.string(string).serialized)
            guard case .string(let read) = back, Array(read.utf8) == Array(string.utf8) else {
                Issue.record("\(Array(string.unicodeScalars)) read back as \(back)")
                return
            }
        }
    }
}

/// Exact equality: strings by UTF-8 bytes (not canonical equivalence), doubles by bit pattern.
func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
    case (.string(let x), .string(let y)): return x.utf8.elementsEqual(y.utf8)
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case (.object(let x), .object(let y)):
        return x.members.count == y.members.count
            && zip(x.members, y.members).allSatisfy { $0.key.utf8.elementsEqual($1.key.utf8) && identical($0.value, $1.value) }
    default: return false
    }
}

/// A seeded generator (SplitMix64) of random JSON values for the codec tests.
struct JSONTestRandom: RandomNumberGenerator {
    private var source: SplitMix64

    init(seed: UInt64) { source = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { source.next() }

    mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }

    /// A finite double: mostly raw bit patterns (every exponent, subnormals), plus a few usual values.
    mutating func double() -> Double {
        switch below(10) {
        case 0: return [0.0, -0.0, 0.1, 1.0, 80.0, 1e16, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNormalMagnitude][below(10)]
        case 1: return Double(Int64.random(in: -1_000_000...1_000_000, using: &self)) / 100
        case 2: return Double(Int64.random(in: .min ... .max, using: &self))
        default:
            while true {
                let number = Double(bitPattern: next())
                if number.isFinite { return number }
            }
        }
    }

    mutating func int() -> Int64 {
        switch below(4) {
        case 0: return [Int64.min, .max, 0, -1, 1, Int64.min + 1, .max - 1][below(7)]
        case 1: return Int64.random(in: -1000...1000, using: &self)
        default: return Int64(bitPattern: next())
        }
    }

    /// Any Unicode scalars: ASCII, JSON's specials, control characters, combining marks, BMP and beyond.
    mutating func string(maxLength: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<below(maxLength + 1) {
            let code: UInt32
            switch below(8) {
            case 0: code = UInt32(below(0x20))
            case 1: code = [0x22, 0x5C, 0x2F, 0x7F, 0x00, 0x2028, 0xFEFF, 0xFFFF, 0x10FFFF, 0x301][below(10)]
            case 2: code = UInt32(0x80 + below(0x800 - 0x80))
            case 3: code = UInt32(0x800 + below(0xD800 - 0x800))
            case 4: code = UInt32(0xE000 + below(0x10000 - 0xE000))
            case 5: code = UInt32(0x10000 + below(0x110000 - 0x10000))
            default: code = UInt32(0x20 + below(0x5F))
            }
            scalars.append(Unicode.Scalar(code)!)
        }
        return String(scalars)
    }

    mutating func value(depth: Int) -> JSONValue {
        switch below(depth > 0 ? 9 : 6) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .int(int())
        case 3: return .double(double())
        case 4, 5: return .string(string(maxLength: 12))
        case 6, 7:
            return .array((0..<below(6)).map { _ in value(depth: depth - 1) })
        default:
            var object = JSONObject()
            var keys = Set<String>()
            for _ in 0..<below(6) {
                let key = string(maxLength: 6)
                // The parser refuses keys equal as Strings, so the generator never repeats one.
                if keys.insert(key).inserted { object.members.append((key: key, value: value(depth: depth - 1))) }
            }
            return .object(object)
        }
    }
}
