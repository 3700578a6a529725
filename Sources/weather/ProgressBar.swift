import Foundation

/// Progress of a job of known size on standard error: a bar with rate and ETA that redraws in
/// place when standard output is a terminal, else a plain line at most once a second.
struct ProgressBar {
    let total: Int
    let unit: String
    let interactive: Bool
    private let start = ContinuousClock.now
    private var lastDrawn: ContinuousClock.Instant?

    init(total: Int, unit: String, interactive: Bool = Console.isInteractive) {
        self.total = total
        self.unit = unit
        self.interactive = interactive
    }

    /// Seconds since the bar was made.
    var elapsed: Double { Self.seconds(ContinuousClock.now - start) }

    /// Shows that `done` of `total` are done (drawn at most 10 times a second on a terminal,
    /// once a second otherwise; always when done reaches total).
    mutating func update(_ done: Int) {
        let now = ContinuousClock.now
        let interval: Duration = interactive ? .milliseconds(100) : .seconds(1)
        if done < total, let lastDrawn, now - lastDrawn < interval { return }
        lastDrawn = now
        let seconds = Self.seconds(now - start)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let eta = rate > 0 ? Double(total - done) / rate : nil
        let figures = "\(Self.count(done))/\(Self.count(total)) \(unit)  \(Self.count(Int(rate.rounded())))/s  ETA \(eta.map(Self.clock) ?? "?")"
        if interactive {
            let width = 30
            let filled = min(width, Int((fraction * Double(width)).rounded(.down)))
            let bar = String(repeating: "=", count: filled) + (filled < width ? ">" + String(repeating: " ", count: width - filled - 1) : "")
            let percent = String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
            Console.progress("\r[\(bar)] \(percent)  \(figures)\u{1B}[K")
        } else {
            Console.error(String(format: "%3d%%  ", Int((fraction * 100).rounded(.down))) + figures)
        }
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        if interactive { Console.progress("\n") }
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// `1,234,567`.
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }

    /// `1:05` or `1:02:03`.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
