import Foundation

/// The progress line of a job followed by `shardctl jobs --watch`: a bar of rows copied, the
/// rate over the last seconds, and the time left at that rate.
struct JobProgress {
    private var samples: [(rows: Int64, at: ContinuousClock.Instant)] = []

    /// Rows copied so far at `instant`; the rate is taken over the last five seconds.
    mutating func sample(rows: Int64, at instant: ContinuousClock.Instant) {
        samples.append((rows, instant))
        while samples.count > 2, instant - samples[0].at > .seconds(5) { samples.removeFirst() }
    }

    /// Rows per second over the samples kept (nil before two samples, or when rows went back:
    /// a step that restarted after a crash copies again).
    var rowsPerSecond: Double? {
        guard let first = samples.first, let last = samples.last, last.rows >= first.rows else { return nil }
        let seconds = Double((last.at - first.at).components.attoseconds) / 1e18 + Double((last.at - first.at).components.seconds)
        return seconds > 0.2 ? Double(last.rows - first.rows) / seconds : nil
    }

    func line(job: Int, movesDone: Int64, moves: Int64, copied: Int64, total: Int64, width: Int = 24) -> String {
        let fraction = total > 0 ? min(1, Double(copied) / Double(total)) : (moves > 0 ? Double(movesDone) / Double(moves) : 1)
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "]"
        var text = "job \(job) \(bar) \(Int(fraction * 100))%  moves \(movesDone)/\(moves)  rows \(copied)/\(total)"
        if let rate = rowsPerSecond, rate > 0 {
            text += "  \(Int(rate.rounded())) rows/s"
            if total > copied { text += "  ETA \(Self.duration(Double(total - copied) / rate))" }
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        return whole < 60 ? "\(whole) s" : whole < 3600 ? "\(whole / 60) min \(whole % 60) s" : "\(whole / 3600) h \(whole / 60 % 60) min"
    }
}
