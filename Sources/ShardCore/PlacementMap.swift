import ShardProtocol

/// The owner of every unit of placement (protocol.md 13): for each placement group (15.1,
/// named after its head model), the map values, ranges or hash buckets of the head model's
/// rule. The daemon keeps it in `state_dir`; at the first start it is exactly shards.conf's,
/// and afterwards shards.conf changes it only by adding what it did not know (a new model, a
/// new map value): no row of a deployment changes shard by an edit of the file.
package struct PlacementMap: Sendable, Equatable {
    /// +1 per switch of a move (protocol.md 9 `placement`).
    package var version: Int
    /// By group, head models in the configuration's order.
    package var groups: [(group: String, rule: ShardBy)]

    package init(version: Int = 1, groups: [(group: String, rule: ShardBy)]) {
        self.version = version
        self.groups = groups
    }

    /// The placement of a first start: every head model's rule as shards.conf gives it.
    package init(configuration: Configuration) {
        self.init(groups: configuration.models.compactMap { model in
            guard let rule = model.shardBy, rule.isHead else { return nil }
            return (model.name, rule)
        })
    }

    package static func == (lhs: PlacementMap, rhs: PlacementMap) -> Bool {
        lhs.version == rhs.version && lhs.groups.map(\.group) == rhs.groups.map(\.group)
            && zip(lhs.groups, rhs.groups).allSatisfy { $0.rule == $1.rule }
    }

    package func rule(of group: String) -> ShardBy? {
        groups.first { $0.group == group }?.rule
    }

    /// The placement after a move's switch: `units` of `group` owned by `shard`, one version
    /// on. A row unit (`key`) changes nothing: such rows are found where they are.
    package func moving(_ units: [PlacementUnit], of group: String, to shard: String) -> PlacementMap {
        var out = self
        guard let index = groups.firstIndex(where: { $0.group == group }) else { return out }
        var rule = groups[index].rule
        for unit in units {
            switch (unit, rule) {
            case (.value(let value), .map(let column, var owners, let defaultShard)):
                owners[value] = shard
                rule = .map(column: column, map: owners, defaultShard: defaultShard)
            case (.range(let lower, let upper), .ranges(let column, var ranges)):
                for position in ranges.indices where ranges[position].lower == lower && ranges[position].upper == upper {
                    ranges[position].shard = shard
                }
                rule = .ranges(column: column, ranges: ranges)
            case (.bucket(let bucket), .hash(let column, var buckets)) where buckets.owners.indices.contains(bucket):
                buckets.owners[bucket] = shard
                rule = .hash(column: column, buckets: buckets)
            default:
                break
            }
        }
        out.groups[index].rule = rule
        out.version += 1
        return out
    }

    /// Who owns `unit` of `group` now (nil for a row unit or a unit the placement lacks).
    package func owner(of unit: PlacementUnit, in group: String) -> String? {
        guard let rule = rule(of: group) else { return nil }
        switch (unit, rule) {
        case (.value(let value), .map(_, let owners, let defaultShard)): return owners[value] ?? defaultShard
        case (.range(let lower, let upper), .ranges(_, let ranges)):
            return ranges.first { $0.lower == lower && $0.upper == upper }?.shard
        case (.bucket(let bucket), .hash(_, let buckets)):
            return buckets.owners.indices.contains(bucket) ? buckets.owners[bucket] : nil
        default: return nil
        }
    }

    /// What `reconcile` made of a stored placement and a configuration.
    package struct Reconciled: Sendable {
        package var placement: PlacementMap
        /// Whether it differs from what was stored (to be saved).
        package var changed: Bool
        /// Why the daemon cannot start with this configuration, each naming a key path.
        package var problems: [String]
    }

    /// The placement a daemon starts with: `stored` (nil at a first start) with what the
    /// configuration adds (new head models, map values and a map default it did not have,
    /// ranges that overlap none placed); problems for what would move rows or strand them (a
    /// changed rule, column or bucket count, a range cut differently, a unit on a shard that
    /// shards.conf no longer has).
    package static func reconcile(stored: PlacementMap?, with configuration: Configuration) -> Reconciled {
        guard let stored else {
            return Reconciled(placement: PlacementMap(configuration: configuration), changed: true, problems: [])
        }
        var problems: [String] = []
        var groups: [(group: String, rule: ShardBy)] = []
        var changed = false
        let defaultBuckets = 1024 * configuration.shards.count
        for model in configuration.models {
            guard let wanted = model.shardBy, wanted.isHead else { continue }
            let path = "models.\(model.name).shard_by"
            guard let placed = stored.rule(of: model.name) else {
                groups.append((model.name, wanted))
                changed = true
                continue
            }
            switch (placed, wanted) {
            case (.map(let column, var owners, var defaultShard), .map(let wantedColumn, let wantedOwners, let wantedDefault)) where column == wantedColumn:
                for (value, shard) in wantedOwners where owners[value] == nil {
                    owners[value] = shard
                    changed = true
                }
                if defaultShard == nil, let wantedDefault {
                    defaultShard = wantedDefault
                    changed = true
                }
                groups.append((model.name, .map(column: column, map: owners, defaultShard: defaultShard)))
            case (.ranges(let column, var ranges), .ranges(let wantedColumn, let wantedRanges)) where column == wantedColumn:
                for (index, range) in wantedRanges.enumerated() where !ranges.contains(where: { $0.lower == range.lower && $0.upper == range.upper }) {
                    if let other = ranges.first(where: { $0.lower < range.upper && range.lower < $0.upper }) {
                        problems.append("\(path).ranges[\(index)]: [\(range.lower.messageText), \(range.upper.messageText)) overlaps the placed range [\(other.lower.messageText), \(other.upper.messageText)) without matching it; ranges cannot be cut anew: keep the placed boundaries")
                    } else {
                        ranges.append(range)
                        changed = true
                    }
                }
                groups.append((model.name, .ranges(column: column, ranges: ranges)))
            case (.hash(let column, let buckets), .hash(let wantedColumn, let wantedBuckets)) where column == wantedColumn:
                // The default count follows the number of shards; a count given that differs
                // from the placed one would re-place rows.
                if wantedBuckets.count != buckets.count && wantedBuckets.count != defaultBuckets {
                    problems.append("\(path).buckets: \(wantedBuckets.count), and the rows are placed in \(buckets.count) buckets, a number that can never change: set buckets = \(buckets.count) or leave it out")
                }
                groups.append((model.name, placed))
            default:
                problems.append("\(path): the rows are placed \(placed.summary), and shards.conf now says \(wanted.summary); shardd cannot re-place rows under another rule: set it back")
                groups.append((model.name, placed))
            }
        }
        if groups.count != stored.groups.count { changed = true }  // a model gone
        let shards = Set(configuration.shards.map(\.name))
        for (group, rule) in groups {
            for (unit, owner) in rule.units where !shards.contains(owner) {
                problems.append("models.\(group).shard_by: \(unit) is placed on shard \(owner), which shards.conf no longer has: add [shards.\(owner)] back (its rows are there)")
                break
            }
        }
        return Reconciled(placement: PlacementMap(version: stored.version, groups: groups), changed: changed, problems: problems)
    }

    /// The configuration, every head model routed by this placement (its children follow).
    package func routing(_ configuration: Configuration) -> Configuration {
        var out = configuration
        out.models = configuration.models.map { model in
            guard let rule = rule(of: model.name) else { return model }
            return model.placed(by: rule)
        }
        return out
    }

    /// One unit whose owner is not the one shards.conf names (protocol.md 9 `differs`).
    package enum Difference: Sendable, Equatable {
        /// A map value (`"*"` the default) or a range `[lo, hi)`.
        case unit(group: String, unit: String, now: String, wanted: String)
        /// A hash shard more than one bucket from an even spread (a drained one wants 0).
        case buckets(group: String, shard: String, buckets: Int, wanted: Int)
    }

    /// Where shards.conf wants something else than the placement holds.
    package func differences(from configuration: Configuration) -> [Difference] {
        var out: [Difference] = []
        for (group, rule) in groups {
            guard let wanted = configuration.model(named: group)?.shardBy else { continue }
            switch (rule, wanted) {
            case (.map(_, let owners, let defaultShard), .map(_, let wantedOwners, let wantedDefault)):
                for (value, owner) in owners.sorted(by: { $0.key < $1.key }) {
                    if let target = wantedOwners[value] ?? wantedDefault, target != owner {
                        out.append(.unit(group: group, unit: PlacementReport.unitName(value), now: owner, wanted: target))
                    }
                }
                if let defaultShard, let wantedDefault, defaultShard != wantedDefault {
                    out.append(.unit(group: group, unit: "*", now: defaultShard, wanted: wantedDefault))
                }
            case (.ranges(_, let ranges), .ranges(_, let wantedRanges)):
                for range in ranges {
                    if let target = wantedRanges.first(where: { $0.lower == range.lower && $0.upper == range.upper })?.shard, target != range.shard {
                        out.append(.unit(group: group, unit: "[\(range.lower.messageText), \(range.upper.messageText))", now: range.shard, wanted: target))
                    }
                }
            case (.hash(_, let buckets), .hash):
                let counts = buckets.countsByOwner
                let spread = Self.evenSpread(buckets: buckets.count, over: configuration.shards.filter { !$0.drain }.map(\.name))
                for shard in configuration.shards.map(\.name) {
                    let have = counts[shard] ?? 0
                    let want = spread[shard] ?? 0
                    if abs(have - want) > 1 || (want == 0 && have > 0) {
                        out.append(.buckets(group: group, shard: shard, buckets: have, wanted: want))
                    }
                }
            default:
                break
            }
        }
        return out
    }

    /// `buckets` spread over `shards` as evenly as they go: the first `buckets mod n` get one more.
    package static func evenSpread(buckets: Int, over shards: [String]) -> [String: Int] {
        guard !shards.isEmpty else { return [:] }
        var out: [String: Int] = [:]
        for (index, shard) in shards.enumerated() {
            out[shard] = buckets / shards.count + (index < buckets % shards.count ? 1 : 0)
        }
        return out
    }
}

extension ShardBy {
    /// A rule of its own (not `parent`): its model heads a placement group.
    package var isHead: Bool {
        if case .parent = self { return false }
        return true
    }

    /// Every unit and its owner, for messages: map values (and the default), ranges, buckets.
    package var units: [(unit: String, owner: String)] {
        switch self {
        case .map(_, let map, let defaultShard):
            return map.sorted { $0.key < $1.key }.map { ("value \($0.key.messageText)", $0.value) }
                + (defaultShard.map { [("the map's default", $0)] } ?? [])
        case .ranges(_, let ranges):
            return ranges.map { ("range [\($0.lower.messageText), \($0.upper.messageText))", $0.shard) }
        case .hash(_, let buckets):
            return buckets.owners.enumerated().map { ("bucket \($0.offset)", $0.element) }
        case .parent:
            return []
        }
    }

    /// `by a map on continent`, for messages.
    var summary: String {
        switch self {
        case .map(let column, _, _): "by a map on \(column)"
        case .ranges(let column, _): "by ranges of \(column)"
        case .hash(let column, let buckets): "by a hash of \(column) into \(buckets.count) buckets"
        case .parent(let model, let via): "with their \(model) (via \(via))"
        }
    }
}

extension Configuration {
    /// A model and its parents up to the head of its placement group (15.1), each with the
    /// column that names its parent (nil for the head); nil for a model without `shard_by`.
    package func placementChain(of name: String) -> [(model: Model, via: String?)]? {
        var chain: [(model: Model, via: String?)] = []
        var current = model(named: name)
        while let step = current, chain.count <= models.count {  // the loader refuses cycles
            switch step.shardBy {
            case .parent(let parent, let via)?:
                chain.append((step, via))
                current = model(named: parent)
            case _?:
                chain.append((step, nil))
                return chain
            case nil:
                return nil
            }
        }
        return nil
    }
}

extension Model {
    /// The same model, its rows placed by `rule`.
    package func placed(by rule: ShardBy) -> Model {
        Model(name: name, table: table, columns: columns, primaryKey: primaryKey, id: id,
              sequenceShard: sequenceShard, shardBy: rule, relationships: relationships)
    }
}
