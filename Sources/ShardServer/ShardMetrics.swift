import CoreMetrics
import Glibc
import Prometheus
import ShardProtocol
import Synchronization

/// The daemon's metrics (protocol.md 15): counters and histograms kept through swift-metrics
/// on a Prometheus registry of this daemon's own (not the process-wide bootstrap, so that
/// several daemons in one test process count apart), and gauges read when a scrape asks.
///
/// The request path touches only a cached counter and histogram per op: the lookup of a
/// metric by its labels (a lock and a hash of the label strings in the registry) happens
/// once per op and code.
package final class ShardMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory

    /// Every family protocol.md 15 names, and the daemon's own (docs/operating.md), with its
    /// type: each gets its `# TYPE` line even before its first sample.
    package static let families: [(name: String, type: String)] = [
        ("shardd_requests_total", "counter"), ("shardd_request_duration_seconds", "histogram"),
        ("shardd_shard_statements_total", "counter"), ("shardd_shard_errors_total", "counter"),
        ("shardd_shard_reads_redone_total", "counter"),
        ("shardd_shard_up", "gauge"), ("shardd_pool_connections", "gauge"), ("shardd_pool_waiting", "gauge"),
        ("shardd_sessions", "gauge"), ("shardd_transactions_open", "gauge"), ("shardd_commits_total", "counter"),
        ("shardd_fanout_shards", "histogram"), ("shardd_identity_map_keys", "gauge"), ("shardd_subscriptions", "gauge"),
        ("shardd_config_version", "gauge"), ("shardd_config_reloads_total", "counter"),
        ("shardd_move_rows_copied_total", "counter"), ("shardd_jobs", "gauge"),
        ("process_resident_memory_bytes", "gauge"), ("process_start_time_seconds", "gauge"), ("process_open_fds", "gauge"),
        // Saturation, beyond the contract's list.
        ("shardd_connections", "gauge"), ("shardd_connections_refused_total", "counter"),
        ("shardd_slow_clients_disconnected_total", "counter"), ("shardd_pool_size", "gauge"),
        ("shardd_commits_pending", "gauge"), ("shardd_commit_recoveries_total", "counter"),
        ("shardd_reads_ahead_total", "counter"),
    ]

    /// Request latency buckets: a ping takes tens of microseconds, a rebalance's request seconds.
    static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10), .seconds(30),
    ]
    static let fanoutBuckets: [Double] = [1, 2, 3, 4, 6, 8, 12, 16, 32, 64]

    private struct RequestKey: Hashable {
        var op: String
        var code: String
    }

    private struct Cache {
        var requests: [RequestKey: CoreMetrics.Counter] = [:]
        var durations: [String: CoreMetrics.Timer] = [:]
        var fanout: [String: CoreMetrics.Recorder] = [:]
        var counters: [String: CoreMetrics.Counter] = [:]
        /// What `count` and `catchUp` added, by series: `stats` reads the same numbers as
        /// `/metrics`.
        var tallies: [String: Tally] = [:]
    }

    /// One counter series' value so far.
    struct Tally {
        var name: String
        var labels: [(String, String)]
        var value: Int
    }

    private let cache = Mutex(Cache())
    /// The process's start, seconds since the epoch.
    let startTime: Double

    package init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = ["shardd_request_duration_seconds": Self.durationBuckets]
        factory.valueHistogramBuckets = ["shardd_fanout_shards": Self.fanoutBuckets]
        self.factory = factory
        startTime = Self.processStartTime() ?? Double(time(nil))
    }

    // MARK: - Events

    /// The counter and histogram of one op and outcome, looked up once and kept by a
    /// session for its next requests (most repeat the op before).
    struct RequestSeries {
        let op: String
        let code: String
        fileprivate let counter: CoreMetrics.Counter
        fileprivate let timer: CoreMetrics.Timer

        /// Requests answered, each taking its `nanoseconds`.
        func record<Durations: Collection<Int64>>(_ durations: Durations) {
            counter.increment(by: Int64(durations.count))
            for nanoseconds in durations { timer.recordNanoseconds(nanoseconds) }
        }
    }

    /// The series of requests of `op` answered with `code` (`ok` or the error code).
    func series(op: String, code: String) -> RequestSeries {
        cache.withLock { cache in
            let key = RequestKey(op: op, code: code)
            let counter = cache.requests[key] ?? {
                let made = CoreMetrics.Counter(label: "shardd_requests_total", dimensions: [("op", op), ("code", code)], factory: factory)
                cache.requests[key] = made
                return made
            }()
            let timer = cache.durations[op] ?? {
                let made = CoreMetrics.Timer(label: "shardd_request_duration_seconds", dimensions: [("op", op)], factory: factory)
                cache.durations[op] = made
                return made
            }()
            return RequestSeries(op: op, code: code, counter: counter, timer: timer)
        }
    }

    /// One request answered: its op, its outcome (`ok` or the error code) and how long it took.
    func request(op: String, code: String, nanoseconds: Int64) {
        series(op: op, code: code).record(CollectionOfOne(nanoseconds))
    }

    /// How many shards a request asked.
    func fanout(op: String, shards: Int) {
        let recorder = cache.withLock { cache in
            cache.fanout[op] ?? {
                let made = CoreMetrics.Recorder(label: "shardd_fanout_shards", dimensions: [("op", op)], aggregate: true, factory: factory)
                cache.fanout[op] = made
                return made
            }()
        }
        recorder.record(shards)
    }

    /// Adds `by` to the counter `name` with `labels` (made on first use).
    func count(_ name: String, _ labels: [(String, String)] = [], by amount: Int = 1) {
        guard amount > 0 else { return }
        let counter = cache.withLock { cache in
            let (key, counter) = Self.counter(name, labels, in: &cache, factory: factory)
            cache.tallies[key]!.value += amount
            return counter
        }
        counter.increment(by: amount)
    }

    /// Brings the counter `name` with `labels` up to `total`, a count kept elsewhere (a
    /// shard's statements): what it lacks of it is added.
    func catchUp(_ name: String, _ labels: [(String, String)], to total: Int) {
        let (counter, delta) = cache.withLock { cache in
            let (key, counter) = Self.counter(name, labels, in: &cache, factory: factory)
            let delta = total - cache.tallies[key]!.value
            if delta > 0 { cache.tallies[key]!.value = total }
            return (counter, delta)
        }
        if delta > 0 { counter.increment(by: delta) }
    }

    /// The series of the counter `name` that `count` has added to, with their values.
    func tallies(of name: String) -> [Tally] {
        cache.withLock { cache in cache.tallies.values.filter { $0.name == name } }
    }

    /// Makes the counter `name` with `labels` exist at zero (a series a dashboard expects
    /// before its first event).
    func declare(_ name: String, _ labels: [(String, String)] = []) {
        cache.withLock { cache in _ = Self.counter(name, labels, in: &cache, factory: factory) }
    }

    /// The counter `name` with `labels` and its tally, made at zero if new; its cache key.
    private static func counter(_ name: String, _ labels: [(String, String)], in cache: inout Cache,
                                factory: PrometheusMetricsFactory) -> (String, CoreMetrics.Counter) {
        let key = labels.isEmpty ? name : name + "{" + labels.map { "\($0)=\($1)" }.joined(separator: ",") + "}"
        if let counter = cache.counters[key] { return (key, counter) }
        let made = CoreMetrics.Counter(label: name, dimensions: labels, factory: factory)
        cache.counters[key] = made
        cache.tallies[key] = Tally(name: name, labels: labels, value: 0)
        return (key, made)
    }

    /// Sets the gauge `name` with `labels` (a Prometheus gauge through swift-metrics' meter).
    func gauge(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
        // The registry hands back the same gauge for the same name and labels.
        CoreMetrics.Meter(label: name, dimensions: labels, factory: factory).set(value)
    }

    // MARK: - Exposition

    /// The Prometheus text exposition (0.0.4): the registry's samples, then a `# TYPE` line
    /// for each family of `families` that has none yet.
    func exposition() -> String {
        var text = registry.emitToString()
        for (name, type) in Self.families where !text.contains("# TYPE \(name) ") {
            text += "# TYPE \(name) \(type)\n"
        }
        return text
    }

    // MARK: - The process

    /// Resident memory in bytes, from /proc/self/statm.
    static func residentBytes() -> Double? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return nil }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Open file descriptors, counted in /proc/self/fd.
    static func openFileDescriptors() -> Double? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if name != "." && name != ".." { count += 1 }
        }
        return Double(count - 1)  // less the directory being read
    }

    /// When the process started, seconds since the epoch: /proc/self/stat's start time in
    /// clock ticks after boot, plus the boot time of /proc/stat.
    static func processStartTime() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command's closing parenthesis start at field 3 (state); starttime is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]),
              let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let boot = Double(line.dropFirst(6)) else { return nil }
        return boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
