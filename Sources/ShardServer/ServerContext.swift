import Glibc
import Logging
import ShardCore
import ShardProtocol
import ShardStore
import Synchronization

/// What every session shares: the configuration, the shards, and the session counter.
package final class ServerContext: Sendable {
    /// The routed configuration now; a request keeps the one it started with.
    package var routed: RoutedConfiguration { current.withLock { $0 } }
    /// The configuration routed by the placement now.
    package var configuration: Configuration { routed.configuration }
    private let current: Mutex<RoutedConfiguration>
    package let shards: ShardSet
    package let logger: Logger
    var shardOrder: ShardOrder { routed.shardOrder }
    /// Peers that may connect, and peers that may run admin ops (default: the daemon's uid);
    /// a reload changes them for the next connection and the next request.
    var allowedUIDs: Set<UInt32> { Set(configuration.server.allowedUIDs ?? [ServerContext.ownUID]) }
    var adminUIDs: Set<UInt32> { Set(configuration.server.adminUIDs ?? [ServerContext.ownUID]) }
    static let ownUID = UInt32(getuid())
    let stats = ServerStats()
    /// The metrics of protocol.md 15.
    package let metrics: ShardMetrics
    /// Starting, serving or stopping, for `GET /health`.
    package let phase: ServingPhase
    /// Where shards.conf came from, for `reload`.
    package let source: ConfigSource
    /// Rows the durable jobs had copied when the daemon started (the metric counts from there).
    let rowsCopiedAtStart: Int
    /// One reload at a time (a SIGHUP during a `reload` waits for it).
    let reloading = ReloadLock()
    /// Atomic commits: transaction ids, decisions, recovery (protocol.md 6.1).
    package let commits: CommitCoordinator
    /// The owners of every unit (protocol.md 13), which `configuration` routes by, and
    /// shards.conf as loaded, which says what is wanted (`placement`'s `differs`).
    package var placement: PlacementReport {
        let routed = self.routed
        return PlacementReport(placement: routed.placement, configured: routed.configured)
    }
    /// shards.conf as loaded, before routing.
    package var configured: Configuration { routed.configured }
    /// The configuration's number (1 at start, +1 per reload that changed something).
    package var configVersion: Int { routed.version }
    /// Requests on a moving unit's group wait here during its switch (protocol.md 13).
    let gate = MoveGate()
    /// The change feed (protocol.md 12).
    let feed = ChangeFeed()
    /// Where rows of each group went, for `moved` (protocol.md 10).
    let departures = Departures()
    /// The jobs of `rebalance` and `move`.
    package let jobs: JobRunner
    /// How long a request's reads may run on the session's own thread before the rest moves
    /// to the connections' queues (`Session.readEach(inline:)`). Other sessions of the same
    /// event loop wait that long at most, while a hop to a queue and back costs tens of
    /// microseconds. Zero: every read hops.
    let inlineReadBudget: Duration
    private let nextSession = Mutex(1)
    private let liveSessions = Mutex<[Int: SessionRecord]>([:])
    /// Accepted connections, authenticated or not (for max_connections).
    private let openConnections = Mutex(0)

    /// Counts a new connection; false when it is over `max_connections`.
    func admitConnection() -> Bool {
        openConnections.withLock { count in
            guard count < configuration.server.maxConnections else { return false }
            count += 1
            return true
        }
    }

    func connectionClosed() {
        openConnections.withLock { $0 -= 1 }
    }

    /// Accepted connections now.
    var connectionCount: Int { openConnections.withLock { $0 } }

    /// The server's name and version, reported by `hello`.
    package static let serverName = "shardd"
    package static let version = "0.1.0"

    /// - Parameters:
    ///   - configuration: routed by the durable placement (`PlacementMap.routing`).
    ///   - commits: the commit coordinator; by default one on `state_dir`'s log.
    ///   - placement: the placement and shards.conf as loaded; by default shards.conf's own.
    ///   - source: the file `reload` reads again.
    ///   - metrics: where the daemon counts; by default a registry of its own.
    ///   - phase: starting, serving or stopping, shared with the metrics endpoint.
    /// - Throws: when the commit log cannot be opened or is damaged.
    package init(configuration: Configuration, shards: ShardSet, logger: Logger, commits: CommitCoordinator? = nil,
                 placement: PlacementReport? = nil, inlineReadBudget: Duration = .microseconds(500),
                 source: ConfigSource = .none, metrics: ShardMetrics = ShardMetrics(), phase: ServingPhase = ServingPhase()) throws {
        let report = placement ?? PlacementReport(placement: PlacementMap(configuration: configuration), configured: configuration)
        self.commits = try commits ?? CommitCoordinator.open(stateDir: configuration.server.stateDir, shards: shards, logger: logger)
        current = Mutex(RoutedConfiguration(configuration: configuration, placement: report.placement, configured: report.configured, version: 1))
        self.source = source
        self.metrics = metrics
        self.phase = phase
        let stateDir = configuration.server.stateDir
        jobs = try JobRunner(store: JobFile(stateDir: stateDir), placementStore: PlacementFile(stateDir: stateDir), logger: logger)
        jobs.departures(into: departures)
        self.inlineReadBudget = inlineReadBudget
        self.shards = shards
        self.logger = logger
        rowsCopiedAtStart = jobs.list(nil).reduce(0) { $0 + $1.rowsCopied }
        for shard in shards.shards { watch(shard) }
        metrics.declare("shardd_config_reloads_total", [("outcome", "ok")])
        metrics.declare("shardd_config_reloads_total", [("outcome", "refused")])
        for (kind, outcomes) in [("single", ["committed", "rolled_back"]), ("two_phase", ["committed", "rolled_back"]),
                                 ("best_effort", ["committed", "rolled_back", "partial"])] {
            for outcome in outcomes { metrics.declare("shardd_commits_total", [("kind", kind), ("outcome", outcome)]) }
        }
    }

    /// Logs a shard's outages and recoveries.
    func watch(_ shard: Shard) {
        let name = shard.name
        let logger = self.logger
        shard.health.onStateChange { down, reason in
            if down {
                logger.warning("shard \(name) is down: \(reason?.message ?? "unreachable"); requests that need it fail with shard_unavailable until it is back")
            } else {
                logger.warning("shard \(name) is up again")
            }
        }
    }

    /// Routes every request that starts from now on by `placement` (a move's switch).
    func route(by placement: PlacementMap) {
        current.withLock { current in
            current = RoutedConfiguration(configuration: placement.routing(current.configured), placement: placement,
                                          configured: current.configured, version: current.version)
        }
    }

    /// Serves every request that starts from now on by `configured` (a reload), routed by
    /// `placement`; returns the new version.
    func reconfigure(_ configured: Configuration, placement: PlacementMap) -> Int {
        current.withLock { current in
            current = RoutedConfiguration(configuration: placement.routing(configured), placement: placement,
                                          configured: configured, version: current.version + 1)
            return current.version
        }
    }

    /// A new session's record, registered until `unregister`.
    func register(peer: PeerCredentials?, stop: @escaping @Sendable () -> Void = {},
                  abort: @escaping @Sendable (ShardError) -> Void = { _ in }) -> SessionRecord {
        let id = nextSession.withLock { id in
            defer { id += 1 }
            return id
        }
        let record = SessionRecord(id: id, peer: peer, identityMapLimit: configuration.server.identityMapLimit, connectedAt: ServerContext.now(), stop: stop, abort: abort)
        liveSessions.withLock { $0[id] = record }
        return record
    }

    func unregister(_ record: SessionRecord) {
        _ = liveSessions.withLock { $0.removeValue(forKey: record.id) }
    }

    /// The live sessions, oldest first.
    var sessions: [SessionRecord] {
        liveSessions.withLock { $0.values.sorted { $0.id < $1.id } }
    }

    /// The wall clock, in UTC.
    static func now() -> Timestamp {
        Timestamp.wallClock()
    }
}
