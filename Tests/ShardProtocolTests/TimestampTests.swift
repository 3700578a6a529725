import Foundation
import Testing
@testable import ShardProtocol

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000001Z", 1),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2026-11-21T09:30:00.250Z", 1_795_253_400_250_000),
        ("2000-02-29T12:00:00Z", 951_825_600_000_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ("1900-03-01T00:00:00.5Z", -2_203_891_200_000_000 + 500_000),
    ] as [(String, Int64)])
    func parsesAndFormatsExactly(text: String, micros: Int64) throws {
        let t = try Timestamp(rfc3339: text)
        #expect(t.microseconds == micros)
        // Formatting gives the canonical form back (millisecond or microsecond digits).
        let again = try Timestamp(rfc3339: t.description)
        #expect(again == t)
    }

    @Test func canonicalForms() throws {
        #expect(try Timestamp(rfc3339: "2026-11-21T09:30:00Z").description == "2026-11-21T09:30:00Z")
        #expect(try Timestamp(rfc3339: "2026-11-21T09:30:00.250Z").description == "2026-11-21T09:30:00.250Z")
        #expect(try Timestamp(rfc3339: "2026-11-21T09:30:00.000250Z").description == "2026-11-21T09:30:00.000250Z")
        #expect(try Timestamp(rfc3339: "1969-12-31T23:59:59.999999Z").description == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp(microseconds: -62_135_596_800_000_000).description == "0001-01-01T00:00:00Z")
    }

    /// The digit-by-digit formatting against Foundation's calendar, over random instants of
    /// years 1583 to 9999 with each fraction form (none, milliseconds, microseconds). Earlier
    /// years are not compared: Foundation's calendar is Julian before 1582, RFC 3339's is not.
    @Test func formatsLikeTheGregorianCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        let first = try Timestamp(rfc3339: "1583-01-01T00:00:00Z").microseconds, last: Int64 = 253_402_300_799_999_999
        for round in 0..<3000 {
            var micros = Int64.random(in: first...last, using: &generator)
            micros -= micros.remainderTowardNegativeInfinity(1_000_000) - [0, 250_000, 123_456][round % 3]
            let seconds = micros.dividedTowardNegativeInfinity(1_000_000)
            let fields = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second],
                                                 from: Date(timeIntervalSince1970: Double(seconds)))
            let fraction = ["", ".250", ".123456"][round % 3]
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", fields.year!, fields.month!, fields.day!,
                                  fields.hour!, fields.minute!, fields.second!) + fraction + "Z"
            #expect(Timestamp(microseconds: micros).description == expected, "\(micros)")
        }
    }

    @Test func offsetsBecomeUTC() throws {
        let a = try Timestamp(rfc3339: "2026-11-21T10:30:00+01:00")
        let b = try Timestamp(rfc3339: "2026-11-21T04:00:00-05:30")
        #expect(a.description == "2026-11-21T09:30:00Z")
        #expect(b.description == "2026-11-21T09:30:00Z")
        #expect(try Timestamp(rfc3339: "2026-11-21t09:30:00z") == a)
        #expect(try Timestamp(rfc3339: "2026-11-21 09:30:00Z") == a)
        // Extra fraction digits are fine only when they are zeros.
        #expect(try Timestamp(rfc3339: "2026-11-21T09:30:00.250000000Z").description == "2026-11-21T09:30:00.250Z")
    }

    @Test(arguments: [
        "", "2026-11-21", "2026-11-21T09:30:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-11-21T24:00:00Z", "2026-11-21T09:60:00Z", "2026-11-21T09:30:60Z",
        "2026-11-21T09:30:00.Z", "2026-11-21T09:30:00.1234567Z", "2026-11-21T09:30:00+0100",
        "2026-11-21T09:30:00Zjunk", "26-11-21T09:30:00Z", "0000-01-01T00:00:00+01:00", "12026-01-01T00:00:00Z",
        "2026-1-21T09:30:00Z", "２０２６-11-21T09:30:00Z",
    ])
    func refusesMalformed(text: String) {
        #expect(throws: InvalidValue.self) { try Timestamp(rfc3339: text) }
    }
}

extension Int64 {
    fileprivate func dividedTowardNegativeInfinity(_ d: Int64) -> Int64 {
        let q = self / d
        return self % d != 0 && self < 0 ? q - 1 : q
    }

    fileprivate func remainderTowardNegativeInfinity(_ d: Int64) -> Int64 {
        self - dividedTowardNegativeInfinity(d) * d
    }
}
