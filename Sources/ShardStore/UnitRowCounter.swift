import ShardCore
import ShardProtocol

/// The rows each move of a `RebalancePlan` carries: the group's rows in the unit on the
/// source shard, its children's included (protocol.md 9 `rebalance`'s `rows`). Map values and
/// ranges are counted by the shard; buckets from pages of keys, as SQL cannot hash.
package struct UnitRowCounter: Sendable {
    package let shards: ShardSet
    /// Routed by the placement.
    package let configuration: Configuration
    package var pageSize = 5000

    package init(shards: ShardSet, configuration: Configuration) {
        self.shards = shards
        self.configuration = configuration
    }

    /// Each model of `group` with its chain of parents up to the head.
    func chains(of group: String) -> [[(model: Model, via: String?)]] {
        configuration.models.compactMap { configuration.placementChain(of: $0.name) }.filter { $0.last?.model.name == group }
    }

    /// The rows of each move, in the plan's order.
    package func rows(of moves: [RebalancePlan.Move]) async throws -> [Int] {
        var out = [Int](repeating: 0, count: moves.count)
        // Bucket moves: one scan per group and source shard counts every bucket at once.
        var bucketCounts: [String: [Int: Int]] = [:]
        for (index, move) in moves.enumerated() {
            guard let shard = shards.shard(named: move.from),
                  let column = configuration.model(named: move.group)?.shardBy?.column else { continue }
            if case .bucket(let bucket) = move.unit {
                let scanKey = move.group + "\u{0}" + move.from
                if bucketCounts[scanKey] == nil {
                    bucketCounts[scanKey] = try await countBuckets(group: move.group, column: column, on: shard)
                }
                out[index] = bucketCounts[scanKey]?[bucket] ?? 0
                continue
            }
            for chain in chains(of: move.group) {
                guard let statement = shard.dialect.unitRowCount(chain, column: column, unit: move.unit) else { continue }
                let count = try await shard.withConnection { try $0.run(statement).rows.first?.first?.intValue ?? 0 }
                out[index] += Int(count)
            }
        }
        return out
    }

    /// Rows per bucket of `group` on `shard`, children included.
    private func countBuckets(group: String, column: String, on shard: Shard) async throws -> [Int: Int] {
        guard case .hash(_, let buckets)? = configuration.model(named: group)?.shardBy else { return [:] }
        var counts: [Int: Int] = [:]
        for chain in chains(of: group) {
            var after: [ShardValue]?
            while true {
                let statement = shard.dialect.unitKeyPage(chain, column: column, after: after, limit: pageSize)
                let rows = try await shard.withConnection { try $0.run(statement).rows }
                for row in rows {
                    if let bucket = buckets.bucket(of: row[row.count - 1]) { counts[bucket, default: 0] += 1 }
                }
                guard rows.count == pageSize, let last = rows.last else { break }
                after = Array(last.dropLast())
            }
        }
        return counts
    }
}
