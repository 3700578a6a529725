/// An instant in UTC with microsecond precision: microseconds since 1970-01-01T00:00:00Z.
///
/// Kept as one integer so that it round-trips exactly on every backend (SQLite stores the
/// integer, PostgreSQL's `timestamptz` is microseconds too) and orders as an integer.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    /// The instant `microseconds` after 1970-01-01T00:00:00Z.
    public init(microseconds: Int64) {
        self.microseconds = microseconds
    }

    /// Years the RFC 3339 text form can carry.
    public static let yearRange = 0...9999
    /// 0000-01-01T00:00:00Z.
    public static let earliest = Timestamp(rfc3339Unchecked: 0, 1, 1, 0, 0, 0, 0)
    /// 9999-12-31T23:59:59.999999Z.
    public static let latest = Timestamp(rfc3339Unchecked: 9999, 12, 31, 23, 59, 59, 999_999)

    /// Equal when the microseconds are.
    @inlinable
    public static func == (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microseconds == rhs.microseconds
    }

    /// Hashes the microseconds.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(microseconds)
    }

    /// Earlier instants first.
    @inlinable
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microseconds < rhs.microseconds
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fff|.ffffff]Z`: milliseconds when the value has no finer part.
    public var description: String {
        let micros = microseconds
        let days = micros.floorDivided(by: 86_400_000_000)
        let inDay = micros - days * 86_400_000_000
        let (y, m, d) = Timestamp.civil(fromDays: days)
        let secondsOfDay = inDay / 1_000_000
        let fraction = inDay % 1_000_000
        // A year outside 0000-9999 (a raw integer read from a shard) as `pad` writes it; the
        // rest digit by digit into one buffer: this runs for every timestamp of every answer.
        let oddYear = Timestamp.yearRange.contains(Int(y)) ? nil : Array(pad(y, 4).utf8)
        let length = (oddYear?.count ?? 4) + 16 + (fraction == 0 ? 0 : fraction % 1000 == 0 ? 4 : 7)
        return String(unsafeUninitializedCapacity: length) { bytes in
            var at = 0
            func put(_ value: Int64, _ width: Int) {
                var value = value
                for offset in stride(from: width - 1, through: 0, by: -1) {
                    bytes[at + offset] = UInt8(48 + value % 10)
                    value /= 10
                }
                at += width
            }
            func put(_ byte: UInt8) {
                bytes[at] = byte
                at += 1
            }
            if let oddYear { oddYear.forEach(put) } else { put(y, 4) }
            put(UInt8(ascii: "-")); put(m, 2); put(UInt8(ascii: "-")); put(d, 2); put(UInt8(ascii: "T"))
            put(secondsOfDay / 3600, 2); put(UInt8(ascii: ":")); put(secondsOfDay / 60 % 60, 2); put(UInt8(ascii: ":"))
            put(secondsOfDay % 60, 2)
            if fraction != 0 {
                put(UInt8(ascii: "."))
                if fraction % 1000 == 0 { put(fraction / 1000, 3) } else { put(fraction, 6) }
            }
            put(UInt8(ascii: "Z"))
            return at
        }
    }

    /// Parses RFC 3339 (`T` or space, `Z` or an offset, up to 6 fraction digits).
    ///
    /// More than six fraction digits are refused unless the extra ones are zeros, since
    /// silently dropping them would store a different instant than the client sent.
    /// - Throws: `InvalidValue` saying what is wrong and what a valid text looks like.
    public init(rfc3339 text: String) throws(InvalidValue) {
        var p = Array(text.utf8)[...]
        func bad(_ why: String) -> InvalidValue {
            InvalidValue("\"\(text)\" is not an RFC 3339 timestamp (\(why)); expected e.g. \"2026-11-21T09:30:00.250Z\"")
        }
        func digits(_ n: Int) throws(InvalidValue) -> Int64 {
            guard p.count >= n else { throw bad("too short") }
            var v: Int64 = 0
            for _ in 0..<n {
                let c = p.removeFirst()
                guard c >= 48 && c <= 57 else { throw bad("expected a digit") }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        func expect(_ chars: [UInt8], _ what: String) throws(InvalidValue) {
            guard let c = p.first, chars.contains(c) else { throw bad("expected \(what)") }
            p.removeFirst()
        }
        let year = try digits(4)
        try expect([UInt8(ascii: "-")], "'-'")
        let month = try digits(2)
        try expect([UInt8(ascii: "-")], "'-'")
        let day = try digits(2)
        try expect([UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")], "'T'")
        let hour = try digits(2)
        try expect([UInt8(ascii: ":")], "':'")
        let minute = try digits(2)
        try expect([UInt8(ascii: ":")], "':'")
        let second = try digits(2)
        var fraction: Int64 = 0
        if p.first == UInt8(ascii: ".") {
            p.removeFirst()
            var count = 0
            while let c = p.first, c >= 48 && c <= 57 {
                p.removeFirst()
                if count < 6 {
                    fraction = fraction * 10 + Int64(c - 48)
                } else if c != 48 {
                    throw bad("more than microsecond precision")
                }
                count += 1
            }
            guard count > 0 else { throw bad("empty fraction") }
            for _ in min(count, 6)..<6 { fraction *= 10 }
        }
        var offsetMinutes: Int64 = 0
        guard let zone = p.first else { throw bad("missing time zone, e.g. Z") }
        if zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z") {
            p.removeFirst()
        } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
            p.removeFirst()
            let oh = try digits(2)
            try expect([UInt8(ascii: ":")], "':' in the offset")
            let om = try digits(2)
            guard oh < 24, om < 60 else { throw bad("offset out of range") }
            offsetMinutes = (oh * 60 + om) * (zone == UInt8(ascii: "+") ? 1 : -1)
        } else {
            throw bad("expected Z or an offset")
        }
        guard p.isEmpty else { throw bad("trailing characters") }
        guard (1...12).contains(month) else { throw bad("month out of range") }
        guard day >= 1, day <= Timestamp.daysIn(month: month, year: year) else { throw bad("day out of range") }
        guard hour < 24, minute < 60, second < 60 else { throw bad("time out of range") }
        let local = Timestamp(rfc3339Unchecked: year, month, day, hour, minute, second, fraction)
        let utc = local.microseconds - offsetMinutes * 60_000_000
        guard utc >= Timestamp.earliest.microseconds, utc <= Timestamp.latest.microseconds else {
            throw bad("outside years 0000 to 9999 in UTC")
        }
        self.init(microseconds: utc)
    }

    private init(rfc3339Unchecked y: Int64, _ mo: Int64, _ d: Int64, _ h: Int64, _ mi: Int64, _ s: Int64, _ us: Int64) {
        let days = Timestamp.days(fromCivil: y, mo, d)
        self.init(microseconds: ((days * 24 + h) * 60 + mi) * 60_000_000 + s * 1_000_000 + us)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

private func pad(_ value: Int64, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

extension Int64 {
    /// Division rounding toward negative infinity (dates before 1970 have negative offsets).
    func floorDivided(by d: Int64) -> Int64 {
        let q = self / d
        return (self % d != 0 && (self < 0) != (d < 0)) ? q - 1 : q
    }
}
