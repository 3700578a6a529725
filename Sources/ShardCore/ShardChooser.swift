import ShardProtocol

/// Where a new row goes (protocol.md 5.1), as `ShardChooser` decides it.
package enum Placement: Sendable, Equatable {
    /// On this shard.
    case shard(String)
    /// With its parent: the `model` row whose primary key is `key`. The caller finds the
    /// parent's shard in the session's identity map, else looks it up like `get`; when there
    /// is none, `ShardChooser.parentNotFound` is the error.
    case parent(model: String, key: ShardValue)
}

/// The shard chooser of protocol.md 5.1: the shard a new row of an `add` is placed on.
///
/// In order: the request's explicit `shard`; else the model's `shard_by` rule applied to the
/// row's key column (a map value, else the map's default; the hash of `ShardHash`; the range
/// `[lo, hi)` holding the value); else, for `shard_by.parent`, the parent row's shard, which
/// the caller resolves (`Placement.parent`). A null or missing key column never chooses a
/// shard, even when a map has a default. Everything that cannot be placed is `no_shard`,
/// whose message says what to give or configure instead.
package struct ShardChooser: Sendable {
    /// All shards, in file order.
    package var shards: ShardOrder

    package init(shards: ShardOrder) {
        self.shards = shards
    }

    package init(configuration: Configuration) {
        self.init(shards: ShardOrder(configuration))
    }

    /// The placement of one new row.
    ///
    /// - Parameters:
    ///   - row: the row as `Model.newRow` returned it. When the shard key is the primary key
    ///     of an `id = "sequence"` model, the caller makes the id first and puts it in.
    ///   - explicitShard: the request's `shard`; it overrides the rule.
    /// - Throws: `unknown_shard` when `explicitShard` is not a shard; `no_shard` when no shard
    ///   can be chosen.
    package func place(_ row: [String: ShardValue], of model: Model, explicitShard: String?) throws(ShardError) -> Placement {
        if let explicitShard {
            return .shard(try shards.checked(explicitShard))
        }
        guard let rule = model.shardBy else {
            throw ShardError(.noShard,
                "\(model.name) has no shard_by, so its rows go only where the request says: give shard (\(shards.listing)), or add shard_by to models.\(model.name)")
        }
        let column = rule.column
        let value = row[column] ?? .null
        if case .parent(let parent, _) = rule {
            guard !value.isNull else {
                throw ShardError(.noShard,
                    "\(model.name).\(column) is \(row[column] == nil ? "missing" : "null"), and a \(model.name) lives with its \(parent) (models.\(model.name).shard_by): give \(column), or give shard")
            }
            return .parent(model: parent, key: value)
        }
        guard !value.isNull else {
            throw ShardError(.noShard,
                "\(model.name).\(column) is \(row[column] == nil ? "missing" : "null"), and models.\(model.name).shard_by places rows by it: give \(column) a value, or give shard")
        }
        if let shard = rule.shard(for: value, shards: shards) {
            return .shard(shard)
        }
        throw Self.unplaceable(value, model: model, rule: rule)
    }

    /// The `no_shard` error for a child row whose parent exists neither in the session nor
    /// on any shard.
    package static func parentNotFound(model: Model, parentModel: String, key: ShardValue) -> ShardError {
        ShardError(.noShard,
            "\(model.name).\(model.shardBy?.column ?? "?") \(key.messageText) names no \(parentModel) in this session or on any shard: add the \(parentModel) first, or give shard")
    }

    /// Why a non-null key value has no shard under a map or ranges rule.
    private static func unplaceable(_ value: ShardValue, model: Model, rule: ShardBy) -> ShardError {
        let name = model.name
        switch rule {
        case .map(let column, let map, _):
            let known = map.keys.sorted()
            let shown = known.prefix(10).map(\.messageText).joined(separator: ", ") + (known.count > 10 ? ", ..." : "")
            return ShardError(.noShard,
                "\(name).\(column) \(value.messageText) is not in models.\(name).shard_by.map (values: \(shown)), which has no default: give shard, or add the value or a default to models.\(name).shard_by")
        case .ranges(let column, let ranges):
            let shown = ranges.map { "[\($0.lower.messageText), \($0.upper.messageText)) -> \($0.shard)" }.joined(separator: ", ")
            return ShardError(.noShard,
                "\(name).\(column) \(value.messageText) is outside every range of models.\(name).shard_by.ranges (\(shown)): give shard, or add a range that holds it")
        case .hash(let column, _):
            // Only a real value has no hash, and the configuration refuses hash on a real column.
            return ShardError(.noShard, "\(name).\(column) \(value.messageText) cannot be hashed (hash needs int, text, bool or timestamp): give shard")
        case .parent(let parent, let via):
            return ShardError(.noShard, "\(name).\(via) \(value.messageText): place the row with its \(parent), or give shard")
        }
    }
}

extension ShardBy {
    /// The shard a non-null key value maps to under a map, hash or ranges rule: the map's
    /// entry, else its default; the owner of its hash bucket; the range holding it. Nil when the value
    /// has none (unmapped without default, outside every range, null) and for a parent rule.
    package func shard(for value: ShardValue, shards: ShardOrder) -> String? {
        guard !value.isNull else { return nil }
        switch self {
        case .map(_, let map, let defaultShard):
            return map[value] ?? defaultShard
        case .hash(_, let buckets):
            return buckets.owner(of: value)
        case .ranges(_, let ranges):
            return ranges.first { $0.contains(value) }?.shard
        case .parent:
            return nil
        }
    }
}

/// The configuration's shard names in file order (the order for ties and for "all shards"),
/// with the checks every chooser makes of the shard names a request gives.
package struct ShardOrder: Sendable, Equatable {
    /// In file order.
    package let names: [String]
    private let positions: [String: Int]

    package init(_ names: [String]) {
        self.names = names
        self.positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    package init(_ configuration: Configuration) {
        self.init(configuration.shards.map(\.name))
    }

    /// The position of `name` in file order, or nil when it is not a shard.
    package func position(of name: String) -> Int? {
        positions[name]
    }

    /// `"shards: a, b, c"`, for messages.
    package var listing: String {
        "shards: " + names.joined(separator: ", ")
    }

    /// `name`, when it is a shard.
    /// - Throws: `unknown_shard`, listing the shards.
    package func checked(_ name: String) throws(ShardError) -> String {
        guard positions[name] != nil else {
            throw ShardError(.unknownShard, "\(Self.quoted(name)) is not a shard (\(listing)); give one of them")
        }
        return name
    }

    /// A request's `shard`/`shards`: each checked, without repeats, in file order.
    /// - Throws: `unknown_shard` for the first name (in the request's order) that is not a shard.
    package func checked(_ requested: [String]) throws(ShardError) -> [String] {
        for name in requested { _ = try checked(name) }
        return inFileOrder(requested)
    }

    /// The shards among `some`, without repeats, in file order; other names are dropped.
    package func inFileOrder<Names: Sequence<String>>(_ some: Names) -> [String] {
        var seen = [Bool](repeating: false, count: names.count)
        for name in some {
            if let i = positions[name] { seen[i] = true }
        }
        return names.indices.filter { seen[$0] }.map { names[$0] }
    }

    private static func quoted(_ name: String) -> String {
        "\"" + name + "\""
    }
}
