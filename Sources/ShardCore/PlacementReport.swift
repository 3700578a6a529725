import ShardProtocol

/// The answer of the admin op `placement` (protocol.md 9): the placement's version, each
/// group with its models and owners, and where shards.conf wants otherwise.
package struct PlacementReport: Sendable {
    package var placement: PlacementMap
    /// shards.conf as loaded (the wanted owners), not the routed configuration.
    package var configured: Configuration

    package init(placement: PlacementMap, configured: Configuration) {
        self.placement = placement
        self.configured = configured
    }

    /// The group a model belongs to: its own name when it has a rule, else its parent's group.
    package static func group(of model: String, in configuration: Configuration) -> String? {
        configuration.placementChain(of: model)?.last?.model.name
    }

    /// `{version, groups, differs}`, of `model`'s group only when given.
    package func json(model: String? = nil) -> JSONObject {
        let only = model.flatMap { Self.group(of: $0, in: configured) }
        var groups: [JSONValue] = []
        for (group, rule) in placement.groups where only == nil || only == group {
            let models = configured.models.filter { Self.group(of: $0.name, in: configured) == group }.map { JSONValue.string($0.name) }
            var members: [(String, JSONValue)] = [("group", .string(group)), ("models", .array(models))]
            switch rule {
            case .map(let column, let owners, let defaultShard):
                var pairs = owners.sorted { $0.key < $1.key }.map { (Self.unitName($0.key), JSONValue.string($0.value)) }
                if let defaultShard { pairs.append(("*", .string(defaultShard))) }
                members += [("rule", .string("map")), ("column", .string(column)), ("owners", .object(JSONObject(pairs)))]
            case .ranges(let column, let ranges):
                members += [("rule", .string("ranges")), ("column", .string(column)),
                            ("owners", .array(ranges.map { .array([$0.lower.responseJSON, $0.upper.responseJSON, .string($0.shard)]) }))]
            case .hash(let column, let buckets):
                let counts = buckets.countsByOwner
                let pairs = configured.shards.map(\.name).map { ($0, JSONValue.int(Int64(counts[$0] ?? 0))) }
                    + counts.keys.filter { name in !configured.shards.contains { $0.name == name } }.sorted().map { ($0, JSONValue.int(Int64(counts[$0]!))) }
                members += [("rule", .string("hash")), ("column", .string(column)), ("owners", .object(JSONObject(pairs))),
                            ("buckets", .int(Int64(buckets.count)))]
            case .parent:
                continue
            }
            groups.append(.object(JSONObject(members)))
        }
        let differs = placement.differences(from: configured).compactMap { difference -> JSONValue? in
            switch difference {
            case .unit(let group, let unit, let now, let wanted):
                guard only == nil || only == group else { return nil }
                return .object(JSONObject([("group", .string(group)), ("unit", .string(unit)), ("now", .string(now)), ("wanted", .string(wanted))]))
            case .buckets(let group, let shard, let buckets, let wanted):
                guard only == nil || only == group else { return nil }
                return .object(JSONObject([("group", .string(group)), ("shard", .string(shard)),
                                           ("buckets", .int(Int64(buckets))), ("wanted", .int(Int64(wanted)))]))
            }
        }
        return JSONObject([("version", .int(Int64(placement.version))), ("groups", .array(groups)), ("differs", .array(differs))])
    }

    /// A map value as an object key: text as it is, other values as their JSON.
    static func unitName(_ value: ShardValue) -> String {
        if case .text(let text) = value { return text }
        return value.responseJSON.description
    }
}
