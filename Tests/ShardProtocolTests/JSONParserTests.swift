import Testing
import ShardProtocol

private func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
    try JSONValue.parse(bytes, maxDepth: maxDepth)
}

/// The error for `bytes`, recording an issue when there is none.
private func failure(_ bytes: [UInt8], maxDepth: Int = 64, sourceLocation: SourceLocation = #_sourceLocation) -> JSONParseError? {
    do {
        let value = try parse(bytes, maxDepth: maxDepth)
        Issue.record("expected an error, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.offset >= 0 && error.offset <= bytes.count, sourceLocation: sourceLocation)
        #expect(error.message.hasPrefix("invalid JSON at byte \(error.offset): "), sourceLocation: sourceLocation)
        return error
    }
}

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct JSONParserTests {
    // MARK: - Valid documents

    @Test func scalars() throws {
        #expect(try JSONValue.parse("null") == .null)
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse(#""hi""#) == .string("hi"))
        #expect(try JSONValue.parse(" \t\r\n 12 \n") == .int(12))
    }

    @Test func integersThatFitInt64AreInts() throws {
        #expect(try JSONValue.parse("0") == .int(0))
        #expect(try JSONValue.parse("-0") == .int(0))
        #expect(try JSONValue.parse("7") == .int(7))
        #expect(try JSONValue.parse("-42") == .int(-42))
        #expect(try JSONValue.parse("9007199254740993") == .int(9_007_199_254_740_993))
        #expect(try JSONValue.parse("9223372036854775807") == .int(.max))
        #expect(try JSONValue.parse("-9223372036854775808") == .int(.min))
        #expect(try JSONValue.parse("1000000000000000000") == .int(1_000_000_000_000_000_000))
    }

    @Test func integersOutsideInt64AreDoubles() throws {
        #expect(try JSONValue.parse("9223372036854775808") == .double(9_223_372_036_854_775_808.0))
        #expect(try JSONValue.parse("-9223372036854775809") == .double(-9_223_372_036_854_775_808.0))
        #expect(try JSONValue.parse("18446744073709551616") == .double(18_446_744_073_709_551_616.0))
        #expect(try JSONValue.parse("99999999999999999999") == .double(1e20))
        let long = "1" + String(repeating: "0", count: 400)
        #expect(try JSONValue.parse("1" + String(repeating: "0", count: 300)) == .double(1e300))
        #expect(throws: JSONParseError.self) { try JSONValue.parse(long) }
    }

    @Test func numbersWithFractionOrExponentAreCorrectlyRoundedDoubles() throws {
        let cases: [(String, UInt64)] = [
            ("0.1", 0.1.bitPattern),
            ("-0.0", (-0.0).bitPattern),
            ("0.0", 0.0.bitPattern),
            ("0e0", 0.0.bitPattern),
            ("-0e999999999999", (-0.0).bitPattern),
            ("1e308", 1e308.bitPattern),
            ("1.7976931348623157e308", Double.greatestFiniteMagnitude.bitPattern),
            ("1.7976931348623158e308", Double.greatestFiniteMagnitude.bitPattern),
            ("2.2250738585072014e-308", 0x0010_0000_0000_0000),
            ("2.2250738585072011e-308", 0x000F_FFFF_FFFF_FFFF),
            ("5e-324", 1),
            ("4.9406564584124654e-324", 1),
            ("2e-324", 0),
            ("3e-324", 1),
            ("1e-400", 0),
            ("1E2", 100.0.bitPattern),
            ("1e+2", 100.0.bitPattern),
            ("1.5e-3", 0.0015.bitPattern),
            ("1.0", 1.0.bitPattern),
            ("9007199254740993.0", 9_007_199_254_740_992.0.bitPattern),
            ("9007199254740995.0", 9_007_199_254_740_996.0.bitPattern),
            ("123456789012345678901234567890e-10", 12_345_678_901_234_567_890.123456789.bitPattern),
            ("1e0000000000000000000000000000000000001", 10.0.bitPattern),
            ("0." + String(repeating: "0", count: 30) + "1", 1e-31.bitPattern),
            ("3.141592653589793238462643383279502884197", Double.pi.bitPattern),
        ]
        for (text, bits) in cases {
            let value = try JSONValue.parse(text)
            guard case .double(let number) = value else {
                Issue.record("\(text) read as \(value)")
                continue
            }
            #expect(number.bitPattern == bits, "\(text) read as \(number)")
        }
    }

    @Test func numbersAgreeWithTheCLibraryBitForBit() throws {
        // Exercises both the fast path (<= 19 digits, small exponents) and strtod.
        var random = JSONTestRandom(seed: 7)
        for _ in 0..<20_000 {
            var text = random.below(2) == 0 ? "-" : ""
            let integerDigits = 1 + random.below(random.below(4) == 0 ? 30 : 8)
            text += String(1 + random.below(9))
            for _ in 1..<integerDigits { text += String(random.below(10)) }
            text += "."
            for _ in 0..<(1 + random.below(random.below(4) == 0 ? 30 : 8)) { text += String(random.below(10)) }
            if random.below(2) == 0 { text += "e\(random.below(80) - 40)" }
            let expected = Double(text)!
            let value = try JSONValue.parse(text)
            guard case .double(let number) = value, number.bitPattern == expected.bitPattern else {
                Issue.record("\(text) read as \(value), expected \(expected)")
                return
            }
        }
    }

    @Test func veryLongNumbersAreReadQuickly() throws {
        let digits = String(repeating: "7", count: 500_000)
        let clock = ContinuousClock()
        let start = clock.now
        #expect(try JSONValue.parse("0." + digits) == .double(0.7777777777777778))
        #expect(try JSONValue.parse("1" + String(repeating: "0", count: 500_000) + "e-500000") == .double(1.0))
        #expect(throws: JSONParseError.self) { try JSONValue.parse(digits) }
        #expect(try JSONValue.parse("[" + digits + "e-500000]") == .array([.double(0.7777777777777778)]))
        #expect(clock.now - start < .seconds(2))
    }

    @Test func outOfRangeNumbersAreErrors() throws {
        for text in ["1E400", "-1e400", "1.7976931348623159e308", "1e99999999999999999999"] {
            let error = failure(bytes(text))
            #expect(error?.message == "invalid JSON at byte 0: number out of range: its magnitude exceeds the largest double (about 1.8e308)")
        }
        #expect(failure(bytes("[1,1E400]"))?.offset == 3)
    }

    @Test func stringsAndEscapes() throws {
        #expect(try JSONValue.parse(#""""#) == .string(""))
        #expect(try JSONValue.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u0041\u00e9\u00E9\u4E2D""#) == .string("Aéé中"))
        #expect(try JSONValue.parse(#""\u0000""#) == .string("\u{0}"))
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""a\uD83D\uDE00b\uDBFF\uDFFF""#) == .string("a😀b\u{10FFFF}"))
        #expect(try JSONValue.parse(#""\uFFFF\uFEFF""#) == .string("\u{FFFF}\u{FEFF}"))
        // Raw UTF-8 of two, three and four bytes, and a raw DEL (not a control character in JSON).
        #expect(try JSONValue.parse("\"é中😀\u{7F}\u{10FFFF}\"") == .string("é中😀\u{7F}\u{10FFFF}"))
        let value = try JSONValue.parse(#""e\u0301""#)
        #expect(value.stringBytes == [0x65, 0xCC, 0x81])
        // Escapes after raw non-ASCII, and raw text after escapes.
        #expect(try JSONValue.parse("\"Tōkyō\\tは\\n東京\"") == .string("Tōkyō\tは\n東京"))
    }

    @Test func containersOfEveryShape() throws {
        #expect(try JSONValue.parse("[]") == .array([]))
        #expect(try JSONValue.parse("{}") == .object([:]))
        #expect(try JSONValue.parse(" [ ] ") == .array([]))
        #expect(try JSONValue.parse("{ }") == .object([:]))
        #expect(try JSONValue.parse("[[[]]]") == .array([.array([.array([])])]))
        #expect(try JSONValue.parse(#"[1,-2.5,"x",true,false,null,{},[]]"#)
            == .array([.int(1), .double(-2.5), .string("x"), .bool(true), .bool(false), .null, .object([:]), .array([])]))
        let request = try JSONValue.parse(#" { "op" : "query", "id" : 7, "model":"Report", "where" : ["and", ["=", "city", "Tokyo"], ["in", "n", [1, 2]]], "limit": 10 } "#)
        #expect(request == .object([
            "op": .string("query"), "id": .int(7), "model": .string("Report"),
            "where": .array([.string("and"), .array([.string("="), .string("city"), .string("Tokyo")]),
                             .array([.string("in"), .string("n"), .array([.int(1), .int(2)])])]),
            "limit": .int(10),
        ]))
    }

    @Test func memberOrderIsKept() throws {
        guard case .object(let object) = try JSONValue.parse(#"{"z":1,"a":2,"m":{"y":0,"b":1},"é":3,"":4}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == ["z", "a", "m", "é", ""])
        #expect(object["m"] == .object(["y": .int(0), "b": .int(1)]))
        guard case .object(let inner)? = object["m"] else { return }
        #expect(inner.keys == ["y", "b"])
    }

    @Test func manyMembersStillFindDuplicates() throws {
        let members = (0..<200).map { "\"k\($0)\":\($0)" }
        guard case .object(let object) = try JSONValue.parse("{" + members.joined(separator: ",") + "}") else {
            Issue.record("not an object")
            return
        }
        #expect(object.keys == (0..<200).map { "k\($0)" })
        let error = failure(bytes("{" + members.joined(separator: ",") + #","k150":0}"#))
        #expect(error?.message.hasSuffix(#"duplicate key "k150" in one object"#) == true)
        let late = failure(bytes(#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"a":10}"#))
        #expect(late?.message == #"invalid JSON at byte 55: duplicate key "a" in one object"#)
    }

    @Test func depthUpToTheLimitIsAccepted() throws {
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try JSONValue.parse(deep)
        let deepObject = String(repeating: #"{"a":"#, count: 63) + "[1]" + String(repeating: "}", count: 63)
        _ = try JSONValue.parse(deepObject)
        #expect(try JSONValue.parse("[[1]]", maxDepth: 2) == .array([.array([.int(1)])]))
        #expect(try JSONValue.parse("1", maxDepth: 0) == .int(1))
    }

    @Test func theErrorMapsToBadJSON() {
        let error = failure(bytes(#"{"a":1 "b":2}"#))
        #expect(error?.offset == 7)
        #expect(error?.message == #"invalid JSON at byte 7: expected ',' or '}' after an object member, found '"'"#)
        #expect(error?.requestError == ShardError(.badJSON, #"invalid JSON at byte 7: expected ',' or '}' after an object member, found '"'"#))
        #expect(error?.description == error?.message)
    }

    // MARK: - Invalid documents

    @Test func invalidDocumentsAreRefusedWithWhereAndWhy() {
        // (input, offset, a piece of the message)
        let cases: [([UInt8], Int, String)] = [
            // empty, whitespace, several values
            ([], 0, "the input is empty; expected a JSON value"),
            (bytes(" \t\r\n"), 4, "unexpected end of input; expected a value"),
            (bytes("1 2"), 2, "unexpected '2' after the JSON value; a line holds exactly one value"),
            (bytes("{}{}"), 2, "unexpected '{' after the JSON value"),
            (bytes("[] x"), 3, "unexpected 'x' after the JSON value"),
            (bytes("\"a\"\"b\""), 3, "after the JSON value"),
            // truncations
            (bytes("[1,2"), 4, "unexpected end of input; expected ',' or ']' after an array element"),
            (bytes("["), 1, "unexpected end of input; expected a value"),
            (bytes(#"{"a":1"#), 6, "unexpected end of input; expected ',' or '}' after an object member"),
            (bytes(#"{"a":"#), 5, "unexpected end of input; expected a value"),
            (bytes(#"{"a""#), 4, "unexpected end of input; expected ':' after an object key"),
            (bytes("{"), 1, "unexpected end of input; expected a string key"),
            (bytes(#""abc"#), 4, "unexpected end of input in the string that starts at byte 0; expected '\"'"),
            (bytes(#"["a\"#), 4, "unexpected end of input; expected an escape character after '\\'"),
            (bytes(#""\u12"#), 5, "unexpected end of input; expected four hex digits after \\u"),
            (bytes("tru"), 0, "invalid literal; expected true"),
            (bytes("nul"), 0, "invalid literal; expected null"),
            (bytes("fals"), 0, "invalid literal; expected false"),
            (bytes("-"), 1, "unexpected end of input; expected a digit after '-'"),
            (bytes("1."), 2, "unexpected end of input; expected a digit after the decimal point"),
            (bytes("1e"), 2, "unexpected end of input; expected a digit in the exponent"),
            (bytes("1e+"), 3, "unexpected end of input; expected a digit in the exponent"),
            // trailing commas, missing separators, wrong keys
            (bytes("[1,]"), 3, "trailing comma before ']'"),
            (bytes("[1, ]"), 4, "trailing comma before ']'"),
            (bytes(#"{"a":1,}"#), 7, "trailing comma before '}'"),
            (bytes("[,1]"), 1, "unexpected ','; expected a value"),
            (bytes("[1 2]"), 3, "expected ',' or ']' after an array element, found '2'"),
            (bytes(#"{"a" 1}"#), 5, "expected ':' after an object key, found '1'"),
            (bytes("{1:2}"), 1, "expected a string key in double quotes, found '1'"),
            (bytes("{a:1}"), 1, "expected a string key in double quotes, found 'a'"),
            (bytes("]"), 0, "unexpected ']'; expected a value"),
            (bytes("[1}"), 2, "expected ',' or ']' after an array element, found '}'"),
            // single quotes, comments, other non-JSON syntax
            (bytes("['a']"), 1, "unexpected '''; expected a value"),
            (bytes("{'a':1}"), 1, "expected a string key in double quotes, found '''"),
            (bytes("// comment\n1"), 0, "unexpected '/'"),
            (bytes("[1 /* c */]"), 3, "found '/'"),
            (bytes("1 # c"), 2, "unexpected '#' after the JSON value"),
            (bytes("TRUE"), 0, "unexpected 'T'"),
            (bytes("undefined"), 0, "unexpected 'u'"),
            // numbers
            (bytes("01"), 0, "numbers may not have leading zeros"),
            (bytes("-01"), 0, "numbers may not have leading zeros"),
            (bytes("[00]"), 1, "numbers may not have leading zeros"),
            (bytes("+1"), 0, "unexpected '+'"),
            (bytes(".5"), 0, "unexpected '.'"),
            (bytes("-.5"), 1, "expected a digit after '-', found '.'"),
            (bytes("1.e5"), 2, "expected a digit after the decimal point, found 'e'"),
            (bytes("1e+-5"), 3, "expected a digit in the exponent, found '-'"),
            (bytes("NaN"), 0, "unexpected 'N'"),
            (bytes("Infinity"), 0, "unexpected 'I'"),
            (bytes("-Infinity"), 1, "expected a digit after '-', found 'I'"),
            (bytes("0x10"), 1, "unexpected 'x' after the JSON value"),
            (bytes("1_000"), 1, "unexpected '_' after the JSON value"),
            (bytes("1E400"), 0, "number out of range"),
            // escapes and surrogates
            (bytes(#""\x""#), 1, #"invalid escape \x; JSON allows"#),
            (bytes(#""\U0041""#), 1, "invalid escape \\U"),
            (bytes(#""\u12G4""#), 1, "expected four hex digits after \\u"),
            (bytes(#""\ud83d""#), 1, "lone surrogate \\uD83D; a high surrogate must be followed by a low surrogate escape \\uDC00-\\uDFFF"),
            (bytes(#""\ude00""#), 1, "lone surrogate \\uDE00; a low surrogate must follow a high surrogate escape"),
            (bytes(#""\ud83d\u0041""#), 1, "not \\u0041"),
            (bytes(#""\ud83dx""#), 1, "lone surrogate \\uD83D"),
            (bytes(#""\ud83d\ud83d""#), 1, "lone surrogate \\uD83D"),
            (bytes(#""\ude00\ud83d""#), 1, "lone surrogate \\uDE00"),
            // invalid UTF-8
            ([0x22, 0xC0, 0xAF, 0x22], 1, "invalid UTF-8 in a string: byte 0xC0 starts an overlong encoding"),
            ([0x22, 0xC1, 0xBF, 0x22], 1, "overlong"),
            ([0x22, 0xE0, 0x80, 0xAF, 0x22], 1, "invalid UTF-8 in a string: an overlong encoding starting with byte 0xE0"),
            ([0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], 1, "an overlong encoding starting with byte 0xF0"),
            ([0x22, 0xED, 0xA0, 0x80, 0x22], 1, "an encoded surrogate (U+D800-U+DFFF) starting with byte 0xED"),
            ([0x22, 0xED, 0xBF, 0xBF, 0x22], 1, "an encoded surrogate"),
            ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1, "a code point above U+10FFFF"),
            ([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], 1, "byte 0xF5 never occurs in UTF-8"),
            ([0x22, 0xFF, 0x22], 1, "byte 0xFF never occurs in UTF-8"),
            ([0x22, 0xFE, 0x22], 1, "byte 0xFE never occurs"),
            ([0x22, 0x80, 0x22], 1, "continuation byte 0x80 without a lead byte"),
            ([0x22, 0xE2, 0x82, 0x22], 1, "a truncated or malformed sequence starting with byte 0xE2"),
            ([0x22, 0xF0, 0x9F, 0x98], 1, "a truncated or malformed sequence starting with byte 0xF0"),
            ([0x22, 0xC3], 1, "a truncated or malformed sequence"),
            ([0x22, 0xC3, 0x41, 0x22], 1, "a truncated or malformed sequence"),
            ([0x22, 0x5C, 0x6E, 0xC3, 0x28, 0x22], 3, "invalid UTF-8 in a string"),
            ([0xC3, 0xA9], 0, "unexpected byte 0xC3; expected a value"),
            ([0xEF, 0xBB, 0xBF, 0x31], 0, "unexpected byte 0xEF"),
            ([0x31, 0x20, 0xC2, 0xA0], 2, "unexpected byte 0xC2 after the JSON value"),
            // raw control characters and NUL
            (bytes("\"a\nb\""), 2, "raw control character 0x0A in a string; write it escaped, e.g. \\u000A"),
            (bytes("\"a\tb\""), 2, "raw control character 0x09"),
            ([0x22, 0x00, 0x22], 1, "raw control character 0x00"),
            ([0x22, 0x5C, 0x6E, 0x1F, 0x22], 3, "raw control character 0x1F"),
            ([0x00], 0, "unexpected byte 0x00; expected a value"),
            ([0x31, 0x00], 1, "unexpected byte 0x00 after the JSON value"),
            ([0x7B, 0x7D, 0x0C], 2, "unexpected byte 0x0C after the JSON value"),
            // duplicate keys
            (bytes(#"{"a":1,"a":2}"#), 7, #"duplicate key "a" in one object"#),
            (bytes(#"{"op":"get","x":{"y":1},"op":"delete"}"#), 24, #"duplicate key "op" in one object"#),
            (bytes(#"{"\u0061":1,"a":2}"#), 12, #"duplicate key "a""#),
            (bytes(#"{"é":1,"e\u0301":2}"#), 8, "duplicate key"),
            (bytes(#"{"a\nb":1,"a\nb":2}"#), 10, #"duplicate key "a\nb""#),
        ]
        #expect(cases.count >= 40)
        for (input, offset, fragment) in cases {
            let shown = String(decoding: input, as: UTF8.self).debugDescription
            guard let error = failure(input) else { continue }
            #expect(error.offset == offset, "\(shown): \(error.message)")
            #expect(error.message.contains(fragment), "\(shown): \(error.message)")
        }
    }

    @Test func nestingBeyondMaxDepthIsRefused() {
        let depth65 = bytes(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
        #expect(failure(depth65)?.message == "invalid JSON at byte 64: arrays and objects nest deeper than 64 levels")
        let objects = bytes(String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65))
        #expect(failure(objects)?.offset == 64 * 5)
        #expect(failure(bytes("[[1]]"), maxDepth: 1)?.message == "invalid JSON at byte 1: arrays and objects nest deeper than 1 level")
        #expect(failure(bytes("[]"), maxDepth: 0)?.offset == 0)
    }

    @Test func aMillionOpeningBracketsNeitherCrashNorRecurse() {
        let brackets = [UInt8](repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(failure(brackets)?.offset == 64)
        let objects = Array(String(repeating: #"{"a":"#, count: 200_000).utf8)
        #expect(failure(objects)?.offset == 64 * 5)
        // With no depth limit the parser still uses no recursion: it runs out of input instead.
        let mixed = Array(String(repeating: #"[{"a":"#, count: 100_000).utf8)
        #expect(failure(mixed, maxDepth: .max)?.message == "invalid JSON at byte 600000: unexpected end of input; expected a value")
    }

    @Test func rawBufferAndStringEntryPointsAgree() throws {
        let text = #"{"op":"ping","id":[1,2.5,"é"]}"#
        let fromString = try JSONValue.parse(text)
        let fromArray = try JSONValue.parse(Array(text.utf8))
        let fromRaw = try Array(text.utf8).withUnsafeBytes { raw in try JSONValue.parse(raw) }
        #expect(fromString == fromArray)
        #expect(fromString == fromRaw)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    // MARK: - Mutation fuzz

    static let requestLines: [String] = [
        #"{"op":"hello","id":1,"client":"shardctl 1.0"}"#,
        #"{"op":"ping"}"#,
        #"{"op":"add","id":"a-1","model":"Report","values":{"id":17,"city":"Tokyo","temperature":23.5,"at":"2026-11-21T09:30:00.250Z"}}"#,
        #"{"op":"add","model":"Report","rows":[{"id":1,"city":"Paris","ok":true},{"id":2,"city":"Zürich","ok":false,"note":null}],"shard":"europe"}"#,
        #"{"op":"get","id":2,"model":"Report","pk":[1],"shard":"asia","fresh":true,"include":["location"]}"#,
        #"{"op":"query","model":"Report","where":["and",["=","continent","Asia"],["in","id",[1,2,3]]],"order_by":["-temperature","id"],"limit":10,"offset":0}"#,
        #"{"op":"count","model":"Report","where":{"continent":"Asia","city":"Tokyo"},"shards":["asia","europe"]}"#,
        #"{"op":"aggregate","model":"Report","select":[["count","*"],["avg","temperature","t"]],"group_by":["city"],"having":[">","t",20.0]}"#,
        #"{"op":"update","key":["Report",[1],"asia"],"values":{"temperature":-3.25e1}}"#,
        #"{"op":"delete","id":null,"key":["Report",[9223372036854775807],"asia"]}"#,
        #"{"op":"update_where","model":"Report","where":["between","temperature",-40,1.5e2],"values":{"note":"\u00e9t\u00e9 \ud83d\ude00"}}"#,
        #"{"op":"delete_where","model":"Report","where":["like","city","T%\\_o"]}"#,
        #"{"op":"load","key":["Location",[3],"europe"],"relationship":"reports"}"#,
        #"{"op":"refresh","key":["Report",[-9223372036854775808],"asia"]}"#,
        #"{"op":"begin"}"#,
        #"{"op":"expunge","key":["Report",[1],"asia"],"id":0.1}"#,
        #"{"op":"identity_keys","model":"Report","id":false}"#,
        #"{"op":"sql","sql":"SELECT count(*) FROM report WHERE city = ?","params":["Tōkyō\n\t\"q\""],"shard":"asia"}"#,
        #"  {"op":"stats"}  "#,
        #"{"op":"keys","session":12,"limit":1000,"model":"Report","nested":[[[[{"a":[{},[]]}]]]],"x":5e-324}"#,
    ]

    @Test func theRequestLinesAreValid() throws {
        for line in Self.requestLines {
            let value = try JSONValue.parse(line)
            #expect(identical(try JSONValue.parse(value.serialized), value), "\(line)")
        }
    }

    @Test func mutatedRequestLinesNeverCrashAndParsedValuesRoundTrip() throws {
        let bases = Self.requestLines.map { Array($0.utf8) }
        let interesting: [UInt8] = Array(#"{}[],:"\-+.0123456789eEtfnu "#.utf8) + [0x00, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xF5, 0xFF]
        var random = JSONTestRandom(seed: 0xF022)
        var parsed = 0
        for _ in 0..<100_000 {
            var line = bases[random.below(bases.count)]
            for _ in 0..<(1 + random.below(3)) {
                mutate(&line, interesting: interesting, random: &random)
            }
            do {
                let value = try JSONValue.parse(line)
                parsed += 1
                var written: [UInt8] = []
                value.write(into: &written)
                let again = try JSONValue.parse(written)
                if !identical(again, value) {
                    Issue.record("\(String(decoding: line, as: UTF8.self).debugDescription) did not round-trip")
                    return
                }
            } catch {
                if error.offset < 0 || error.offset > line.count || !error.message.hasPrefix("invalid JSON at byte \(error.offset): ") {
                    Issue.record("bad error for \(line): \(error)")
                    return
                }
            }
        }
        // Some mutations (inside strings, digits) keep the line valid; most do not.
        #expect(parsed > 1_000)
        #expect(parsed < 90_000)
    }

    private func mutate(_ line: inout [UInt8], interesting: [UInt8], random: inout JSONTestRandom) {
        let count = line.count
        switch random.below(6) {
        case 0 where count > 0:  // flip one bit
            line[random.below(count)] ^= UInt8(1) << UInt8(random.below(8))
        case 1 where count > 0:  // overwrite with a byte that matters to JSON or UTF-8
            line[random.below(count)] = interesting[random.below(interesting.count)]
        case 2:  // insert a byte
            let byte = random.below(2) == 0 ? interesting[random.below(interesting.count)] : UInt8(random.below(256))
            line.insert(byte, at: random.below(count + 1))
        case 3 where count > 0:  // delete a range
            let start = random.below(count)
            line.removeSubrange(start..<min(count, start + 1 + random.below(8)))
        case 4 where count > 0:  // duplicate a range somewhere
            let start = random.below(count)
            let slice = Array(line[start..<min(count, start + 1 + random.below(16))])
            line.insert(contentsOf: slice, at: random.below(count + 1))
        default:  // truncate
            if count > 0 { line.removeSubrange(random.below(count)...) }
        }
    }
}

extension JSONValue {
    fileprivate var stringBytes: [UInt8]? {
        if case .string(let string) = self { return Array(string.utf8) }
        return nil
    }
}
