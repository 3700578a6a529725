import Testing
import ShardCore
import ShardProtocol

@Suite struct ValueJSONTests {
    let int = Column(name: "n", type: .int)
    let real = Column(name: "r", type: .real)
    let text = Column(name: "t", type: .text, nullable: false)
    let flag = Column(name: "b", type: .bool)
    let time = Column(name: "ts", type: .timestamp)

    @Test func acceptsExactlyTheProtocolForms() throws {
        #expect(try ShardValue(json: .int(.min), for: int) == .int(.min))
        #expect(try ShardValue(json: .int(3), for: real) == .real(3))
        #expect(try ShardValue(json: .double(2.5), for: real) == .real(2.5))
        #expect(try ShardValue(json: .string("é"), for: text) == .text("é"))
        #expect(try ShardValue(json: .bool(true), for: flag) == .bool(true))
        #expect(try ShardValue(json: .string("2026-11-21T09:30:00.250Z"), for: time) == .timestamp(try Timestamp(rfc3339: "2026-11-21T09:30:00.250Z")))
        #expect(try ShardValue(json: .null, for: int) == .null)
    }

    @Test func refusesCoercionsWithTheColumnInTheMessage() {
        let cases: [(JSONValue, Column, String)] = [
            (.string("12"), int, "expected an integer"),
            (.double(12.0), int, "expected an integer"),
            (.double(12.5), int, "expected an integer"),
            (.double(9.3e18), int, "outside the signed 64-bit range"),
            (.bool(true), int, "expected an integer"),
            (.int(1), flag, "expected true or false"),
            (.string("x"), real, "expected a number"),
            (.int(5), text, "expected a string"),
            (.null, text, "not nullable"),
            (.string("a\u{0}b"), text, "NUL"),
            (.string("yesterday"), time, "RFC 3339"),
            (.int(0), time, "RFC 3339 timestamp string"),
            (.array([]), int, "an array"),
        ]
        for (json, column, fragment) in cases {
            let error = #expect(throws: ShardError.self) { try ShardValue(json: json, for: column) }
            #expect(error?.code == .invalidValue)
            #expect(error?.message.hasPrefix("column \(column.name): ") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(fragment) == true, "\(json) for \(column.type): \(error?.message ?? "")")
        }
    }

    @Test func valuesGoBackToTheirJSONForm() {
        #expect(ShardValue.timestamp(Timestamp(microseconds: 250_000)).responseJSON == .string("1970-01-01T00:00:00.250Z"))
        #expect(ShardValue.real(80).responseJSON == .double(80))
        #expect(ShardValue.int(-1).responseJSON == .int(-1))
    }
}
