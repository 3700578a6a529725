import ShardCore
import ShardProtocol
import ShardStore

/// A session's transaction (protocol.md 6): one leased connection per shard it has
/// touched, in the order touched. Opened by the first write or by `begin`.
final class SessionTransaction {
    let explicit: Bool
    private(set) var leases: [(shard: Shard, lease: ConnectionLease)] = []
    /// The rows its requests changed, in the order they ran, for the change feed: only of
    /// models a subscription watched when the write ran (`ChangeFeed.interest(in:)`).
    var changes: [RowChange] = []

    init(explicit: Bool) {
        self.explicit = explicit
    }

    func lease(for shard: Shard) -> ConnectionLease? {
        leases.first { $0.shard === shard }?.lease
    }

    func add(_ shard: Shard, _ lease: ConnectionLease) {
        leases.append((shard, lease))
    }

    func remove(_ shard: Shard) -> ConnectionLease? {
        guard let index = leases.firstIndex(where: { $0.shard === shard }) else { return nil }
        return leases.remove(at: index).lease
    }

    /// The touched shards' names, in shards.conf order.
    func shardNames(in order: ShardOrder) -> [String] {
        order.inFileOrder(leases.map(\.shard.name))
    }
}

/// One request's writes inside the session's transaction, so that a failing request
/// changes nothing (protocol.md 2, 6).
///
/// On a shard the transaction already held, the request runs inside a savepoint; a shard it
/// opened (`began`, already in `BEGIN` when the scope is made) is rolled back as a whole.
/// Either way the undo of the shard that failed happens in the same hop as the failure.
struct WriteScope {
    struct Entry {
        let shard: Shard
        let lease: ConnectionLease
        /// True when this request opened the shard's transaction.
        let began: Bool
    }

    private(set) var entries: [Entry] = []

    static let savepoint = "shardd_request"

    func entry(for shard: Shard) -> Entry? {
        entries.first { $0.shard === shard }
    }

    mutating func append(_ entry: Entry) {
        entries.append(entry)
    }

    /// Runs `body` on the shard's leased connection, after a `SAVEPOINT` where the
    /// transaction predates the request, and undoes it on failure, all in one hop.
    static func run<T: Sendable>(
        _ entry: Entry, _ body: @escaping @Sendable (any ShardConnection) throws -> T
    ) async throws -> T {
        let began = entry.began
        return try await entry.lease.run { connection in
            if !began { try connection.savepoint(WriteScope.savepoint) }
            do {
                return try body(connection)
            } catch {
                WriteScope.undo(connection, began: began)
                throw error
            }
        }
    }

    /// Rolls back what this request did on a connection (runs on the connection's queue).
    static func undo(_ connection: any ShardConnection, began: Bool) {
        if began {
            if connection.isInTransaction { try? connection.rollback() }
        } else {
            try? connection.rollbackToSavepoint(savepoint)
            try? connection.releaseSavepoint(savepoint)
        }
    }
}
