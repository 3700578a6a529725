import Histogram
import ShardCore
import ShardProtocol
import Synchronization

/// The daemon's counters for `stats` (protocol.md 9): requests per op, errors per code,
/// latency per op (HdrHistogram, microseconds).
final class ServerStats: Sendable {
    private struct State {
        var requests: [String: Int] = [:]
        var errors: [String: Int] = [:]
        var latency: [String: Histogram<UInt64>] = [:]
    }

    private let state = Mutex(State())
    let started = ContinuousClock.now

    func record(op: String, error: ErrorCode?, microseconds: UInt64) {
        state.withLock { state in
            state.requests[op, default: 0] += 1
            if let error { state.errors[error.rawValue, default: 0] += 1 }
            // Up to an hour, 3 significant digits.
            _ = state.latency[op, default: Histogram(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)].record(max(1, microseconds))
        }
    }

    /// `requests`, `errors` and `latency_us`, ops and codes sorted by name.
    func snapshot() -> (requests: JSONObject, errors: JSONObject, latency: JSONObject) {
        state.withLock { state in
            let requests = JSONObject(state.requests.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int(Int64($0.value))) })
            let errors = JSONObject(state.errors.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.int(Int64($0.value))) })
            let latency = JSONObject(state.latency.sorted { $0.key < $1.key }.map { op, histogram in
                (op, JSONValue.object(JSONObject([
                    ("p50", .int(Int64(histogram.valueAtPercentile(50)))), ("p99", .int(Int64(histogram.valueAtPercentile(99)))),
                ])))
            })
            return (requests, errors, latency)
        }
    }
}
