import ShardCore
import ShardProtocol

/// PostgreSQL's text output, decoded by the column's type for raw SQL (no result types given).
extension ShardValue {
    /// Decodes one non-null text column: numbers, booleans and timestamps by their type,
    /// everything else (and anything that does not parse) as text.
    init(postgresText bytes: UnsafeRawBufferPointer, type: PostgresType) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch type {
        case .int8, .int4, .int2:
            if let i = Int64(text) { self = .int(i); return }
        case .float8, .float4:
            if let d = Double(text) { self = .real(d); return }
        case .numeric:
            let number = PostgresNumeric(text: text)
            if let i = number.int64 { self = .int(i); return }
            if let d = number.double { self = .real(d); return }
        case .bool:
            if text == "t" { self = .bool(true); return }
            if text == "f" { self = .bool(false); return }
        case .timestamptz, .timestamp:
            if let t = Timestamp(postgresText: text, hasZone: type == .timestamptz) { self = .timestamp(t); return }
        default:
            break
        }
        self = .text(text)
    }
}

extension Timestamp {
    /// Parses PostgreSQL's ISO output, e.g. `2026-11-21 09:30:00.25+00`,
    /// `0001-12-31 23:00:00+00 BC`, or `+05:30` / `+00:53:28` offsets (seconds appear for
    /// historical zones). nil for `infinity` or years outside 0000...9999.
    init?(postgresText text: String, hasZone: Bool) {
        var rest = Substring(text)
        var beforeChrist = false
        if rest.hasSuffix(" BC") {
            beforeChrist = true
            rest = rest.dropLast(3)
        }
        guard let space = rest.firstIndex(of: " ") else { return nil }
        let date = rest[..<space]
        var time = rest[rest.index(after: space)...]
        var offsetSeconds: Int64 = 0
        if hasZone {
            guard let signIndex = time.lastIndex(where: { $0 == "+" || $0 == "-" }) else { return nil }
            let sign: Int64 = time[signIndex] == "-" ? -1 : 1
            let parts = time[time.index(after: signIndex)...].split(separator: ":", omittingEmptySubsequences: false)
            guard (1...3).contains(parts.count) else { return nil }
            var seconds: Int64 = 0
            for (i, part) in parts.enumerated() {
                guard part.count == 2, let n = Int64(part) else { return nil }
                seconds += n * [3600, 60, 1][i]
            }
            offsetSeconds = sign * seconds
            time = time[..<signIndex]
        }
        guard let dash = date.firstIndex(of: "-"), let year = Int(date[..<dash]) else { return nil }
        // The local year may lie just outside 0000...9999 while the instant does not (0000-01-01Z
        // is 2 BC in Honolulu): such a year is parsed 400 years (one Gregorian cycle) away.
        var astronomicalYear = beforeChrist ? 1 - year : year
        var cycles: Int64 = 0
        if astronomicalYear < 0 && astronomicalYear >= -400 {
            astronomicalYear += 400
            cycles = -1
        } else if astronomicalYear > 9999 && astronomicalYear <= 10399 {
            astronomicalYear -= 400
            cycles = 1
        }
        guard Timestamp.yearRange.contains(astronomicalYear) else { return nil }
        let yearText = String(astronomicalYear)
        let rfc3339 = String(repeating: "0", count: 4 - yearText.count) + yearText + date[dash...] + "T" + time + "Z"
        guard let local = try? Timestamp(rfc3339: rfc3339) else { return nil }
        let microsPerCycle: Int64 = 146_097 * 86_400_000_000
        let micros = local.microseconds + cycles * microsPerCycle - offsetSeconds * 1_000_000
        guard micros >= Timestamp.earliest.microseconds, micros <= Timestamp.latest.microseconds else { return nil }
        self.init(microseconds: micros)
    }
}
