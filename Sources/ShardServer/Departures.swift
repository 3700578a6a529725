import ShardCore
import ShardProtocol
import Synchronization

/// Which shards rows of each placement group have left by a move, and the keys moves gave
/// new ids: what turns a request for a key that names a row's old shard into `moved`
/// (protocol.md 10, 13) rather than `not_found`.
final class Departures: Sendable {
    private struct State {
        var left: [Pair: Set<String>] = [:]
        var units: [Pair: Set<PlacementUnit>] = [:]
        var rekeyed: [IdentityKey: IdentityKey] = [:]
    }

    private struct Pair: Hashable {
        var group: String
        var shard: String
    }

    private let state = Mutex(State())

    /// Rows of `group` left `shard` for `target`; `rekeyed` are the old and new keys of those
    /// given new ids.
    func record(group: String, units: [PlacementUnit], left shard: String, to target: String, rekeyed: [MoveJob.Rekey]) {
        state.withLock { state in
            state.left[Pair(group: group, shard: shard), default: []].insert(target)
            state.units[Pair(group: group, shard: shard), default: []].formUnion(units)
        }
        remember(rekeyed)
    }

    /// The shards rows of `group` went to from `shard` (empty: none ever left it).
    func destinations(group: String, from shard: String) -> Set<String> {
        state.withLock { $0.left[Pair(group: group, shard: shard)] ?? [] }
    }

    /// New keys of rows a move renumbers (answered only once their unit has left its shard).
    func remember(_ rekeyed: [MoveJob.Rekey]) {
        state.withLock { state in
            for item in rekeyed { state.rekeyed[item.from] = item.to }
        }
    }

    /// Whether `unit` of `group` left `shard` by a move.
    func unit(_ unit: PlacementUnit, of group: String, left shard: String) -> Bool {
        state.withLock { $0.units[Pair(group: group, shard: shard)]?.contains(unit) ?? false }
    }

    /// The new key of a row given a new id by a move.
    func newKey(of key: IdentityKey) -> IdentityKey? {
        state.withLock { $0.rekeyed[key] }
    }
}
