import ShardProtocol

/// One unit of placement (protocol.md 13): a map value, a range, a hash bucket, or one row
/// of a model without `shard_by` (its primary key).
package enum PlacementUnit: Sendable, Hashable {
    case value(ShardValue)
    case range(lower: ShardValue, upper: ShardValue)
    case bucket(Int)
    case key([ShardValue])

    /// `{"value": v}`, `{"range": [lo, hi]}` or `{"bucket": n}` (protocol.md 9).
    package var json: JSONValue {
        switch self {
        case .value(let value): .object(JSONObject([("value", value.responseJSON)]))
        case .range(let lower, let upper): .object(JSONObject([("range", .array([lower.responseJSON, upper.responseJSON]))]))
        case .bucket(let bucket): .object(JSONObject([("bucket", .int(Int64(bucket)))]))
        case .key(let key): .object(JSONObject([("key", .array(key.map(\.responseJSON)))]))
        }
    }

    /// The unit that holds rows whose head has `value` in `rule`'s column (nil: none does).
    package init?(of value: ShardValue, under rule: ShardBy) {
        switch rule {
        case .map: self = .value(value)
        case .ranges(_, let ranges):
            guard let range = ranges.first(where: { value >= $0.lower && value < $0.upper }) else { return nil }
            self = .range(lower: range.lower, upper: range.upper)
        case .hash(_, let buckets):
            guard let bucket = buckets.bucket(of: value) else { return nil }
            self = .bucket(bucket)
        case .parent: return nil
        }
    }

    /// Whether a row whose head has `value` in the rule's column belongs to this unit.
    package func contains(_ value: ShardValue, under rule: ShardBy) -> Bool {
        switch (self, rule) {
        case (.value(let unit), _): return value == unit
        case (.range(let lower, let upper), _): return value >= lower && value < upper
        case (.bucket(let bucket), .hash(_, let buckets)): return buckets.bucket(of: value) == bucket
        default: return false
        }
    }
}

/// The moves of `rebalance` (protocol.md 13): the fewest that make the placement match
/// shards.conf. Map values and ranges go where the file names them; hash buckets spread
/// evenly over the shards not drained, each within one bucket of the mean, a drained shard
/// ending with none. Pure: the rows each move carries are counted by the caller.
package struct RebalancePlan: Sendable, Equatable {
    package struct Move: Sendable, Equatable {
        package var group: String
        package var unit: PlacementUnit
        package var from: String
        package var to: String

        package init(group: String, unit: PlacementUnit, from: String, to: String) {
            self.group = group
            self.unit = unit
            self.from = from
            self.to = to
        }
    }

    package var moves: [Move]

    package init(placement: PlacementMap, configuration: Configuration) {
        var moves: [Move] = []
        let targets = configuration.shards.filter { !$0.drain }.map(\.name)
        for (group, rule) in placement.groups {
            guard let wanted = configuration.model(named: group)?.shardBy else { continue }
            switch (rule, wanted) {
            case (.map(_, let owners, _), .map(_, let wantedOwners, let wantedDefault)):
                for (value, owner) in owners.sorted(by: { $0.key < $1.key }) {
                    if let to = wantedOwners[value] ?? wantedDefault, to != owner {
                        moves.append(Move(group: group, unit: .value(value), from: owner, to: to))
                    }
                }
            case (.ranges(_, let ranges), .ranges(_, let wantedRanges)):
                for range in ranges {
                    if let to = wantedRanges.first(where: { $0.lower == range.lower && $0.upper == range.upper })?.shard, to != range.shard {
                        moves.append(Move(group: group, unit: .range(lower: range.lower, upper: range.upper), from: range.shard, to: to))
                    }
                }
            case (.hash(_, let buckets), .hash):
                moves += Self.spread(buckets, over: targets).map { Move(group: group, unit: .bucket($0.bucket), from: $0.from, to: $0.to) }
            default:
                break
            }
        }
        self.moves = moves
    }

    /// The bucket moves that leave every target within one bucket of the mean and every
    /// other shard empty, moving as few as that takes: the shards that hold the most get the
    /// larger quotas, and each keeps its lowest-numbered buckets up to its quota.
    package static func spread(_ buckets: HashBuckets, over targets: [String]) -> [(bucket: Int, from: String, to: String)] {
        guard !targets.isEmpty else { return [] }
        let counts = buckets.countsByOwner
        let base = buckets.count / targets.count
        let extra = buckets.count % targets.count
        let byHolding = targets.enumerated().sorted { (counts[$0.element] ?? 0, -$0.offset) > (counts[$1.element] ?? 0, -$1.offset) }
        var quota: [String: Int] = [:]
        for (rank, target) in byHolding.enumerated() { quota[target.element] = base + (rank < extra ? 1 : 0) }
        // What each shard gives up: beyond its quota (everything, off the targets).
        var giving: [(bucket: Int, from: String)] = []
        var kept: [String: Int] = [:]
        for bucket in 0..<buckets.count {
            let owner = buckets.owners[bucket]
            let limit = quota[owner] ?? 0
            if kept[owner, default: 0] < limit {
                kept[owner, default: 0] += 1
            } else {
                giving.append((bucket, owner))
            }
        }
        // Handed out in bucket order to the targets still under quota, in file order.
        var moves: [(bucket: Int, from: String, to: String)] = []
        var next = targets.makeIterator()
        var current = next.next()
        for item in giving.sorted(by: { $0.bucket < $1.bucket }) {
            while let target = current, kept[target, default: 0] >= quota[target]! { current = next.next() }
            guard let target = current else { break }
            kept[target, default: 0] += 1
            moves.append((item.bucket, item.from, target))
        }
        return moves
    }
}
