import Foundation

extension Timestamp {
    /// The instant of `date`, rounded to the nearest microsecond (clamped to what 64 bits of
    /// microseconds hold, about 292,000 years either side of 1970).
    public init(_ date: Date) {
        let micros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        self.init(microseconds: micros >= 9.2e18 ? .max : micros <= -9.2e18 ? .min : Int64(micros))
    }

    /// The wall clock (CLOCK_REALTIME), to the microsecond.
    public static func wallClock() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    /// The instant as a `Date`.
    public var date: Date {
        // Whole seconds and the fraction apart, so that the division rounds only the fraction.
        let seconds = microseconds.floorDivided(by: 1_000_000)
        let fraction = microseconds - seconds * 1_000_000
        return Date(timeIntervalSince1970: Double(seconds) + Double(fraction) / 1_000_000)
    }

    /// Whether the instant lies in the years 0000 to 9999, which the RFC 3339 text holds.
    public var isRepresentable: Bool {
        microseconds >= Timestamp.earliest.microseconds && microseconds <= Timestamp.latest.microseconds
    }

    /// `2026-11-21T09:30:00.250000Z`: always six fraction digits, the form clients send
    /// (`description` writes 0, 3 or 6, the form the daemon answers with).
    public var microsecondText: String {
        var text = description
        text.removeLast()  // "Z"
        if let dot = text.lastIndex(of: ".") {
            let digits = text.distance(from: dot, to: text.endIndex) - 1
            text += String(repeating: "0", count: 6 - digits)
        } else {
            text += ".000000"
        }
        return text + "Z"
    }
}
