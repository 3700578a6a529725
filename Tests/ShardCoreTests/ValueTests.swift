import Testing
@testable import ShardCore

@Suite struct ValueTests {
    @Test func checkedRefusesWrongTypesWithoutCoercion() throws {
        #expect(throws: InvalidValue.self) { try Value.text("12").checked(for: .int, nullable: true) }
        #expect(throws: InvalidValue.self) { try Value.int(1).checked(for: .bool, nullable: true) }
        #expect(throws: InvalidValue.self) { try Value.real(1.5).checked(for: .int, nullable: true) }
        #expect(throws: InvalidValue.self) { try Value.null.checked(for: .text, nullable: false) }
        #expect(try Value.int(3).checked(for: .real, nullable: false) == .real(3))
        #expect(try Value.null.checked(for: .int, nullable: true) == .null)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func checkedRefusesNonFiniteReals(value: Double) {
        #expect(throws: InvalidValue.self) { try Value.real(value).checked(for: .real, nullable: true) }
    }

    @Test func textContainingNULIsRefused() {
        // PostgreSQL cannot store U+0000, so no backend may: the value model is the same everywhere.
        #expect(throws: InvalidValue.self) { try Value.text("a\u{0}b").checked(for: .text, nullable: true) }
    }

    @Test func textEqualityIsByUTF8Bytes() {
        let composed = Value.text("\u{E9}")
        let decomposed = Value.text("e\u{301}")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
    }

    @Test func oneOrderNullFirstTextByBytes() {
        let values: [Value] = [.text("é"), .null, .text("a"), .text("B"), .text("😀"), .text("e\u{301}"), .text("")]
        let sorted = values.sorted()
        #expect(sorted == [.null, .text(""), .text("B"), .text("a"), .text("e\u{301}"), .text("é"), .text("😀")])
        #expect(Value.int(-1) < .int(0))
        #expect(Value.bool(false) < .bool(true))
        #expect(Value.timestamp(Timestamp(microseconds: -5)) < .timestamp(Timestamp(microseconds: 0)))
    }
}
