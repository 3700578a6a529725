import Testing
@testable import ShardProtocol

@Suite struct ValueTests {
    @Test func checkedRefusesWrongTypesWithoutCoercion() throws {
        #expect(throws: InvalidValue.self) { try ShardValue.text("12").checked(for: .int, nullable: true) }
        #expect(throws: InvalidValue.self) { try ShardValue.int(1).checked(for: .bool, nullable: true) }
        #expect(throws: InvalidValue.self) { try ShardValue.real(1.5).checked(for: .int, nullable: true) }
        #expect(throws: InvalidValue.self) { try ShardValue.null.checked(for: .text, nullable: false) }
        #expect(try ShardValue.int(3).checked(for: .real, nullable: false) == .real(3))
        #expect(try ShardValue.null.checked(for: .int, nullable: true) == .null)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func checkedRefusesNonFiniteReals(value: Double) {
        #expect(throws: InvalidValue.self) { try ShardValue.real(value).checked(for: .real, nullable: true) }
    }

    @Test func textContainingNULIsRefused() {
        // PostgreSQL cannot store U+0000, so no backend may: the value model is the same everywhere.
        #expect(throws: InvalidValue.self) { try ShardValue.text("a\u{0}b").checked(for: .text, nullable: true) }
    }

    @Test func textEqualityIsByUTF8Bytes() {
        let composed = ShardValue.text("\u{E9}")
        let decomposed = ShardValue.text("e\u{301}")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
    }

    @Test func oneOrderNullFirstTextByBytes() {
        let values: [ShardValue] = [.text("é"), .null, .text("a"), .text("B"), .text("😀"), .text("e\u{301}"), .text("")]
        let sorted = values.sorted()
        #expect(sorted == [.null, .text(""), .text("B"), .text("a"), .text("e\u{301}"), .text("é"), .text("😀")])
        #expect(ShardValue.int(-1) < .int(0))
        #expect(ShardValue.bool(false) < .bool(true))
        #expect(ShardValue.timestamp(Timestamp(microseconds: -5)) < .timestamp(Timestamp(microseconds: 0)))
    }
}
