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
    let shardOrder: ShardOrder
    /// Peers that may connect, and peers that may run admin ops (default: the daemon's uid).
    let allowedUIDs: Set<UInt32>
    let adminUIDs: Set<UInt32>
    let stats = ServerStats()
    /// Atomic commits: transaction ids, decisions, recovery (protocol.md 6.1).
    package let commits: CommitCoordinator
    /// The owners of every unit (protocol.md 13), which `configuration` routes by, and
    /// shards.conf as loaded, which says what is wanted (`placement`'s `differs`).
    package var placement: PlacementReport { PlacementReport(placement: routed.placement, configured: configured) }
    /// shards.conf as loaded, before routing.
    package let configured: Configuration
    /// Requests on a moving unit's group wait here during its switch (protocol.md 13).
    let gate = MoveGate()
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

    /// The server's name and version, reported by `hello`.
    package static let serverName = "shardd"
    package static let version = "0.1.0"

    /// - Parameters:
    ///   - configuration: routed by the durable placement (`PlacementMap.routing`).
    ///   - commits: the commit coordinator; by default one on `state_dir`'s log.
    ///   - placement: the placement and shards.conf as loaded; by default shards.conf's own.
    /// - Throws: when the commit log cannot be opened or is damaged.
    package init(configuration: Configuration, shards: ShardSet, logger: Logger, commits: CommitCoordinator? = nil,
                 placement: PlacementReport? = nil, inlineReadBudget: Duration = .microseconds(500)) throws {
        let report = placement ?? PlacementReport(placement: PlacementMap(configuration: configuration), configured: configuration)
        self.configured = report.configured
        self.commits = try commits ?? CommitCoordinator.open(stateDir: configuration.server.stateDir, shards: shards, logger: logger)
        current = Mutex(RoutedConfiguration(configuration: configuration, placement: report.placement))
        let stateDir = configuration.server.stateDir
        jobs = try JobRunner(store: JobFile(stateDir: stateDir), placementStore: PlacementFile(stateDir: stateDir), logger: logger)
        jobs.departures(into: departures)
        self.inlineReadBudget = inlineReadBudget
        self.shards = shards
        self.logger = logger
        shardOrder = ShardOrder(configuration)
        for shard in shards.shards {
            let name = shard.name
            shard.health.onStateChange { down, reason in
                if down {
                    logger.warning("shard \(name) is down: \(reason?.message ?? "unreachable"); requests that need it fail with shard_unavailable until it is back")
                } else {
                    logger.warning("shard \(name) is up again")
                }
            }
        }
        let own = UInt32(getuid())
        allowedUIDs = Set(configuration.server.allowedUIDs ?? [own])
        adminUIDs = Set(configuration.server.adminUIDs ?? [own])
    }

    /// Routes every request that starts from now on by `placement` (a move's switch).
    func route(by placement: PlacementMap) {
        let next = RoutedConfiguration(configuration: placement.routing(configured), placement: placement)
        current.withLock { $0 = next }
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
