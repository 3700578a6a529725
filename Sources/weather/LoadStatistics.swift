import Foundation
import Histogram
import ShardClient
import Synchronization

/// Latencies and errors of one operation of `weather load`.
struct OperationStatistics: Sendable {
    /// Latencies of the operations that succeeded, in microseconds (3 significant digits, up to an hour).
    var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    /// Operations that failed.
    var errors = 0

    /// Operations that succeeded.
    var count: Int { Int(latency.totalCount) }

    mutating func add(_ other: OperationStatistics) {
        latency.add(other.latency)
        errors += other.errors
    }
}

/// What the clients of `weather load` measured: per operation, and errors by code.
struct LoadStatistics: Sendable {
    var operations: [LoadOperation: OperationStatistics] = [:]
    /// Failed operations by the error's code (`timeout`, `constraint_violation`, `connection_lost`...).
    var errors: [String: Int] = [:]

    /// Operations done, failed or not.
    var attempts: Int { operations.values.reduce(0) { $0 + $1.count + $1.errors } }
    /// Operations that failed.
    var errorCount: Int { errors.values.reduce(0, +) }

    mutating func record(_ operation: LoadOperation, _ duration: Duration) {
        let microseconds = max(1, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        operations[operation, default: OperationStatistics()].latency.record(UInt64(min(microseconds, 3_600_000_000)))
    }

    mutating func recordError(_ operation: LoadOperation, code: String) {
        operations[operation, default: OperationStatistics()].errors += 1
        errors[code, default: 0] += 1
    }

    mutating func add(_ other: LoadStatistics) {
        for (operation, statistics) in other.operations { operations[operation, default: OperationStatistics()].add(statistics) }
        for (code, count) in other.errors { errors[code, default: 0] += count }
    }
}

/// The statistics of one client (one session), shared by its pipelined tasks.
final class ClientRecorder: Sendable {
    private let statistics = Mutex(LoadStatistics())

    func record(_ operation: LoadOperation, _ duration: Duration) {
        statistics.withLock { $0.record(operation, duration) }
    }

    func recordError(_ operation: LoadOperation, code: String) {
        statistics.withLock { $0.recordError(operation, code: code) }
    }

    /// Operations attempted and failed so far, for the live progress.
    var progress: (attempts: Int, errors: Int) {
        statistics.withLock { ($0.attempts, $0.errorCount) }
    }

    var snapshot: LoadStatistics {
        statistics.withLock { $0 }
    }

    private let written = Mutex<[Stored<Report>]>([])

    /// A report an answered add and commit wrote (kept only with --check-writes).
    func wrote(_ report: Stored<Report>) {
        written.withLock { $0.append(report) }
    }

    var writes: [Stored<Report>] { written.withLock { $0 } }
}

/// The end result of `weather load`, as a table or one JSON document.
struct LoadReport {
    var statistics: LoadStatistics
    var mix: OperationMix
    var clients: Int
    var pipeline: Int
    var requestedSeconds: Double
    var elapsedSeconds: Double
    var seed: UInt64
    /// With --check-writes: what reading back every added report found.
    var writeCheck: WriteCheck?

    private func throughput(_ count: Int) -> Double {
        elapsedSeconds > 0 ? (Double(count) / elapsedSeconds * 10).rounded() / 10 : 0
    }

    private var totalCount: Int { statistics.operations.values.reduce(0) { $0 + $1.count } }

    /// The percentiles of `latency` in microseconds: p50, p90, p99, max (0 when empty).
    private func percentiles(_ latency: Histogram<UInt64>) -> [(String, UInt64)] {
        guard latency.totalCount > 0 else { return [("p50", 0), ("p90", 0), ("p99", 0), ("max", 0)] }
        return [("p50", latency.valueAtPercentile(50)), ("p90", latency.valueAtPercentile(90)),
                ("p99", latency.valueAtPercentile(99)), ("max", latency.maxRecorded)]
    }

    /// One JSON document: settings, totals, per operation count/errors/throughput/latency in µs, errors by code.
    var json: JSONValue {
        var operations = JSONValue.Object()
        var all = OperationStatistics()
        for operation in mix.operations {
            let statistics = statistics.operations[operation] ?? OperationStatistics()
            all.add(statistics)
            operations[operation.rawValue] = entry(statistics)
        }
        var errors = JSONValue.Object()
        for (code, count) in statistics.errors.sorted(by: { $0.key < $1.key }) { errors[code] = .int(Int64(count)) }
        var mixObject = JSONValue.Object()
        for (operation, weight) in mix.weights { mixObject[operation.rawValue] = .int(Int64(weight)) }
        var result: JSONValue.Object = [
            "clients": .int(Int64(clients)),
            "pipeline": .int(Int64(pipeline)),
            "duration_s": .double((elapsedSeconds * 1000).rounded() / 1000),
            "requested_duration_s": .double(requestedSeconds),
            "seed": .int(Int64(bitPattern: seed)),
            "mix": .object(mixObject),
            "count": .int(Int64(totalCount)),
            "throughput_per_s": .double(throughput(totalCount)),
            "latency_us": .object(JSONValue.Object(percentiles(all.latency).map { (key: $0.0, value: .int(Int64($0.1))) })),
            "errors": .object(errors),
            "ops": .object(operations),
        ]
        if let writeCheck { result["writes"] = writeCheck.json }
        return .object(result)
    }

    private func entry(_ statistics: OperationStatistics) -> JSONValue {
        .object([
            "count": .int(Int64(statistics.count)),
            "errors": .int(Int64(statistics.errors)),
            "throughput_per_s": .double(throughput(statistics.count)),
            "latency_us": .object(JSONValue.Object(percentiles(statistics.latency).map { (key: $0.0, value: .int(Int64($0.1))) })),
        ])
    }

    /// A table: one line per operation and one for all, latencies in microseconds, then errors by code.
    var text: String {
        var rows: [[String]] = [["op", "count", "ops/s", "p50 µs", "p90 µs", "p99 µs", "max µs", "errors"]]
        var all = OperationStatistics()
        func row(_ name: String, _ statistics: OperationStatistics) -> [String] {
            [name, ProgressBar.count(statistics.count), String(format: "%.1f", throughput(statistics.count))]
                + percentiles(statistics.latency).map { ProgressBar.count(Int($0.1)) }
                + [ProgressBar.count(statistics.errors)]
        }
        for operation in mix.operations {
            let statistics = statistics.operations[operation] ?? OperationStatistics()
            all.add(statistics)
            rows.append(row(operation.rawValue, statistics))
        }
        rows.append(row("all", all))
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.indices.map { column in
                column == 0 ? row[column].padding(toLength: widths[column], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - row[column].count) + row[column]
            }.joined(separator: "  ")
        }
        lines.insert("\(clients) client\(clients == 1 ? "" : "s"), pipeline \(pipeline), \(String(format: "%.2f", elapsedSeconds)) s, mix \(mix)", at: 0)
        let errors = statistics.errors.sorted { $0.key < $1.key }.map { "\($0.key) \(ProgressBar.count($0.value))" }
        lines.append("errors by code: " + (errors.isEmpty ? "none" : errors.joined(separator: ", ")))
        if let writeCheck { lines.append(writeCheck.text) }
        return lines.joined(separator: "\n")
    }
}
