import Foundation
import ShardCore

/// Dates as the protocol writes them: RFC 3339 in UTC.
enum RFC3339 {
    /// `2026-11-21T09:30:00.250000Z`: always six fraction digits; nil outside years 0000-9999.
    static func string(from date: Date) -> String? {
        guard let micros = microseconds(of: date) else { return nil }
        // ShardCore's Timestamp writes 0, 3 or 6 fraction digits; the client always sends 6.
        var text = Timestamp(microseconds: micros).description
        text.removeLast()  // "Z"
        if let dot = text.lastIndex(of: ".") {
            let digits = text.distance(from: dot, to: text.endIndex) - 1
            text += String(repeating: "0", count: 6 - digits)
        } else {
            text += ".000000"
        }
        return text + "Z"
    }

    /// The instant of an RFC 3339 text (`Z` or an offset, up to six fraction digits).
    static func date(from text: String) -> Date? {
        guard let timestamp = try? Timestamp(rfc3339: text) else { return nil }
        return date(microseconds: timestamp.microseconds)
    }

    /// Microseconds since 1970, rounded to the nearest; nil outside years 0000-9999.
    static func microseconds(of date: Date) -> Int64? {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        guard micros >= Double(Timestamp.earliest.microseconds), micros <= Double(Timestamp.latest.microseconds) else { return nil }
        return Int64(micros)
    }

    static func date(microseconds: Int64) -> Date {
        // Whole seconds and the fraction apart, so that the division rounds only the fraction.
        let seconds = microseconds.floorDivided(by: 1_000_000)
        let fraction = microseconds - seconds * 1_000_000
        return Date(timeIntervalSince1970: Double(seconds) + Double(fraction) / 1_000_000)
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
