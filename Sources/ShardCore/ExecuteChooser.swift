import ShardProtocol

/// The shards a `query`, `count`, `aggregate`, `update_where` or `delete_where` runs on.
package struct Routing: Sendable, Equatable {
    /// In file order, without repeats. Empty when the request cannot match any row (the
    /// answer is empty and nothing is queried).
    package var shards: [String]
    /// True when the request's `shard`/`shards` or its `where` chose the shards; false when
    /// nothing narrowed them and they are all the shards.
    package var narrowed: Bool

    package init(shards: [String], narrowed: Bool) {
        self.shards = shards
        self.narrowed = narrowed
    }
}

/// The execute chooser of protocol.md 5.3: the shards a statement over `where` must run on.
///
/// The request's `shard`/`shards` override everything (each checked, repeats dropped, file
/// order). Otherwise the `where` is read for the values it allows in the model's shard key
/// column (`shard_by.column`), and those are mapped through the rule:
/// - `=` and `in` on the key column: each value's shard (map entry, else the map's default,
///   else no shard; the `ShardHash` shard; the range holding it, else no shard). A null
///   value matches nothing and has no shard.
/// - `and`: the intersection of the operands that constrain; operands that do not are
///   ignored (an `and` of none constrains nothing). Values are intersected before they are
///   mapped, so `region = "x" and region = "y"` matches nothing even when both fall to the
///   same default shard.
/// - `or`: the union, unless some operand does not constrain, which makes it all shards
///   (an `or` of no operands matches nothing).
/// - `any` / `has` over a relationship whose one side is the other's `shard_by.parent`:
///   the shards the related model's rows matching the inner condition route to (so
///   `["has", "location", ["=", "continent", "Asia"]]` on `Report` asks `Asia`'s shard).
///   Without a condition, or between models placed independently, nothing.
/// - anything else (`not`, `!=`, `<`, `between`, `like`, `starts_with`, `is_null`, `not_in`,
///   another column) constrains nothing.
/// - no `where`, or a model without `shard_by`: all shards.
///
/// For a child model (`shard_by.parent`) the key column is its `via` column, whose values are
/// parent keys: they route to the parents' shards when the session knows every one of them
/// (`parentShards`), else they constrain nothing. Only a parent model whose keys are unique
/// across shards (`id = "sequence"`) narrows: with `shard_local` or `client` keys, the parent
/// the session knows on one shard may have a namesake with children on another.
///
/// A `where` that constrains to no shard at all (values that no shard can hold) routes to
/// none: the rows it asks for cannot have been placed by the rule. Rows an `add` put on an
/// explicit shard against the rule are found only by an explicit `shard`/`shards` or a
/// `where` that does not narrow.
package struct ExecuteChooser: Sendable {
    /// All shards, in file order.
    package var shards: ShardOrder
    /// The models whose primary keys are unique across shards: the parents that narrow.
    package var uniqueKeyModels: Set<String>

    package init(shards: ShardOrder, uniqueKeyModels: Set<String>) {
        self.shards = shards
        self.uniqueKeyModels = uniqueKeyModels
    }

    /// The chooser for `configuration`, whose `id = "sequence"` models are the parents that narrow.
    package init(configuration: Configuration) {
        self.init(shards: ShardOrder(configuration),
                  uniqueKeyModels: Set(configuration.models.filter { $0.id == .sequence }.map(\.name)))
    }

    /// The shards a statement over `model` filtered by `where` runs on.
    ///
    /// - Parameters:
    ///   - explicitShards: the request's `shard` or `shards`; nil when neither was given.
    ///     An empty list routes to no shard.
    ///   - parentShards: for a child model, the shards (tokens) of the given parent rows (of
    ///     the named parent model; keys without repeats or nulls) when the session's identity
    ///     map holds every one of them; nil when it misses any. Called only for a child model
    ///     whose parent is in `uniqueKeyModels`, with a non-empty list.
    /// - Throws: `unknown_shard` for an explicit name that is not a shard.
    package func route(
        model: Model, where expression: Expression?, explicitShards: [String]? = nil,
        parentShards: (_ parentModel: String, _ keys: [ShardValue]) -> [String]? = { _, _ in nil }
    ) throws(ShardError) -> Routing {
        if let explicitShards {
            return Routing(shards: try shards.checked(explicitShards), narrowed: true)
        }
        guard let expression, let found = narrowedShards(model, expression, parentShards) else {
            return Routing(shards: shards.names, narrowed: false)
        }
        return Routing(shards: shards.inFileOrder(found), narrowed: true)
    }

    /// The shards that can hold `model` rows matching `expression`, or nil when it does not
    /// narrow them.
    private func narrowedShards(_ model: Model, _ expression: Expression, _ parentShards: ParentShards) -> [String]? {
        switch allowed(expression, model: model, parentShards) {
        case nil: nil
        case .shards(let names)?: names
        case .values(let values)?: mapped(values, rule: model.shardBy!, parentShards)
        }
    }

    /// The shards `rule` maps `values` of its column to, or nil when it cannot tell (a child
    /// whose parents the session does not all know).
    private func mapped(_ values: ValueSet, rule: ShardBy, _ parentShards: ParentShards) -> [String]? {
        let values = values.values.filter { !$0.isNull }
        switch rule {
        case .parent(let parent, _):
            guard !values.isEmpty else { return [] }
            guard uniqueKeyModels.contains(parent) else { return nil }
            return parentShards(parent, values)
        case .map, .hash, .ranges:
            return values.compactMap { rule.shard(for: $0, shards: shards) }
        }
    }

    /// What `expression` allows of `model`'s rows: values of its shard key column, shards
    /// (through `any` / `has`), or nil when it does not confine them. Intersections and
    /// unions keep the first occurrence's order.
    private func allowed(_ expression: Expression, model: Model, _ parentShards: ParentShards) -> Allowed? {
        let column = model.shardBy?.column
        switch expression {
        case .compare(.equal, let c, let value) where c == column:
            return .values(ValueSet([value]))
        case .isIn(let c, let values) where c == column:
            return .values(ValueSet(values))
        case .related(let related):
            // The related rows live on this row's shard only when one is the other's parent
            // by the placement rule; then the shards of the matching related rows are the
            // shards of this row.
            guard Self.colocated(model, related), let condition = related.condition,
                  let found = narrowedShards(related.target, condition, parentShards)
            else { return nil }
            return .shards(found)
        case .and(let terms):
            var values: ValueSet?
            var names: [String]?
            for term in terms {
                switch allowed(term, model: model, parentShards) {
                case nil: continue
                case .values(let allowed)?: values = values.map { $0.intersection(allowed) } ?? allowed
                case .shards(let allowed)?: names = names.map { $0.filter(allowed.contains) } ?? allowed
                }
            }
            guard let names else { return values.map(Allowed.values) }
            guard let values, let fromValues = mapped(values, rule: model.shardBy!, parentShards) else { return .shards(names) }
            return .shards(names.filter(fromValues.contains))
        case .or(let terms):
            var values = ValueSet([])
            var names: [String]?
            for term in terms {
                switch allowed(term, model: model, parentShards) {
                case nil: return nil
                case .values(let allowed)?: values.formUnion(allowed)
                case .shards(let allowed)?: names = (names ?? []) + allowed
                }
            }
            guard let names else { return .values(values) }
            guard values.values.isEmpty else {
                guard let fromValues = mapped(values, rule: model.shardBy!, parentShards) else { return nil }
                return .shards(names + fromValues)
            }
            return .shards(names)
        default:
            return nil
        }
    }

    /// Whether `model`'s rows and the rows `related` leads to share shards by the placement
    /// rule: the child's `shard_by.parent` is the other model, through the relationship's column.
    static func colocated(_ model: Model, _ related: RelatedCondition) -> Bool {
        switch related.relationship.kind {
        case .toOne: model.shardBy == .parent(model: related.target.name, via: related.relationship.foreignKey)
        case .toMany: related.target.shardBy == .parent(model: model.name, via: related.relationship.foreignKey)
        }
    }
}

/// The session's lookup of parents' shards (see `ExecuteChooser.route`).
private typealias ParentShards = (_ parentModel: String, _ keys: [ShardValue]) -> [String]?

/// What a `where` allows of a model's rows.
private enum Allowed {
    /// These values of the shard key column.
    case values(ValueSet)
    /// Rows on these shards only (repeats possible).
    case shards([String])
}

/// Values without repeats, in first-seen order (so that parent keys reach `parentShards` in
/// a stable order).
private struct ValueSet {
    private(set) var values: [ShardValue] = []
    private var members: Set<ShardValue> = []

    init(_ values: [ShardValue]) {
        for value in values { insert(value) }
    }

    mutating func insert(_ value: ShardValue) {
        if members.insert(value).inserted { values.append(value) }
    }

    mutating func formUnion(_ other: ValueSet) {
        for value in other.values { insert(value) }
    }

    func intersection(_ other: ValueSet) -> ValueSet {
        ValueSet(values.filter { other.members.contains($0) })
    }
}
