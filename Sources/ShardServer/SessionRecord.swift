import ShardCore
import ShardProtocol
import Synchronization

/// What the admin ops may see of a live session: who it is, its counters, and its identity
/// map, which lives here behind a lock so that `keys` can read it from another session.
final class SessionRecord: Sendable {
    let id: Int
    let peer: PeerCredentials?
    let connectedAt: Timestamp
    let identityMap: LockedIdentityMap
    private let counters = Mutex((requests: 0, inTransaction: false))
    /// Requests begun (`requests` counts those finished): a move waits for the ones under way
    /// when it starts, which routed by the placement before it.
    private let begun = Atomic<Int>(0)
    /// The placement groups the open transaction wrote to (a move's switch waits for it), and
    /// how many transactions that wrote to some group ended before it.
    private let written = Mutex<(groups: Set<String>, ended: Int)>(([], 0))
    /// Ends the session's stream of requests (graceful shutdown): what was read is answered.
    let stop: @Sendable () -> Void
    /// Asks the session's task to roll back its transaction with this error, between requests.
    let abort: @Sendable (ShardError) -> Void

    init(id: Int, peer: PeerCredentials?, identityMapLimit: Int, connectedAt: Timestamp, stop: @escaping @Sendable () -> Void,
         abort: @escaping @Sendable (ShardError) -> Void = { _ in }) {
        self.id = id
        self.stop = stop
        self.abort = abort
        self.peer = peer
        self.connectedAt = connectedAt
        self.identityMap = LockedIdentityMap(limit: identityMapLimit)
    }

    func began() {
        begun.add(1, ordering: .relaxed)
    }

    /// The number of the request under way, if one is.
    var requestUnderWay: Int? {
        let started = begun.load(ordering: .relaxed)
        return started > requests ? started : nil
    }

    func finished(request inTransaction: Bool) {
        counters.withLock { $0 = ($0.requests + 1, inTransaction) }
    }

    /// The open transaction wrote to `groups` (nil: the session has no transaction now).
    func transactionWrote(_ groups: [String]?) {
        written.withLock { written in
            guard let groups else {
                if !written.groups.isEmpty { written = ([], written.ended + 1) }
                return
            }
            written.groups.formUnion(groups)
        }
    }

    func transactionWrote(toAnyOf groups: [String]) -> Bool {
        written.withLock { written in groups.contains { written.groups.contains($0) } }
    }

    /// The open transaction, if it wrote to `group`: a number that changes when it ends.
    func transaction(writing group: String) -> Int? {
        written.withLock { $0.groups.contains(group) ? $0.ended : nil }
    }

    /// Whether the transaction `number` (from `transaction(writing:)`) is still open.
    func isOpen(_ number: Int, writing group: String) -> Bool {
        transaction(writing: group) == number
    }

    var requests: Int { counters.withLock { $0.requests } }
    var inTransaction: Bool { counters.withLock { $0.inTransaction } }
}

/// A session's identity map behind a lock: the session is its only writer; admin ops read.
/// Uncontended, the lock costs a few tens of nanoseconds per use.
final class LockedIdentityMap: Sendable {
    private let map: Mutex<IdentityMap>

    init(limit: Int) {
        map = Mutex(IdentityMap(limit: limit))
    }

    var count: Int { map.withLock { $0.count } }
    func values(for key: IdentityKey) -> [ShardValue]? { map.withLock { $0.values(for: key) } }
    func contains(_ key: IdentityKey) -> Bool { map.withLock { $0.contains(key) } }
    @discardableResult func put(_ key: IdentityKey, _ values: [ShardValue]) -> [IdentityKey] { map.withLock { $0.put(key, values) } }
    @discardableResult func remove(_ key: IdentityKey) -> Bool { map.withLock { $0.remove(key) } }
    @discardableResult func removeAll() -> Int { map.withLock { $0.removeAll() } }
    func keys(model: String? = nil) -> [IdentityKey] { map.withLock { $0.keys(model: model) } }
}
