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
    /// Ends the session's stream of requests (graceful shutdown): what was read is answered.
    let stop: @Sendable () -> Void

    init(id: Int, peer: PeerCredentials?, identityMapLimit: Int, connectedAt: Timestamp, stop: @escaping @Sendable () -> Void) {
        self.id = id
        self.stop = stop
        self.peer = peer
        self.connectedAt = connectedAt
        self.identityMap = LockedIdentityMap(limit: identityMapLimit)
    }

    func finished(request inTransaction: Bool) {
        counters.withLock { $0 = ($0.requests + 1, inTransaction) }
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
