extension ShardSession {
    // MARK: - Adding

    /// Adds one row (`add`): the shard chooser places it, unless `shard` names the shard.
    ///
    /// - Returns: the stored object, with the key the daemon made and every column's value.
    /// - Throws: `ShardError` (`no_shard`, `invalid_value`, `unknown_column`, `constraint_violation`...).
    @discardableResult
    public func add<Model: ShardModel>(_ object: Model, shard: String? = nil) async throws -> Stored<Model> {
        var arguments: Arguments = [("model", .string(Model.modelName)), ("values", .object(try ModelEncoder.encode(object)))]
        arguments.append("shard", ifPresent: shard.map(JSONValue.string))
        let answer = try await perform("add", arguments)
        let objects = try Stored<Model>.list(answer["objects"])
        guard objects.count == 1 else { throw ShardError.invalidResponse("to add has \(objects.count) objects for one row") }
        return objects[0]
    }

    /// Adds several rows in one request (`add` with `rows`); each is placed by the shard chooser.
    ///
    /// - Returns: the stored objects in input order (nothing is sent for an empty sequence).
    @discardableResult
    public func add<Model: ShardModel, Objects: Sequence<Model>>(contentsOf objects: Objects, shard: String? = nil) async throws -> [Stored<Model>] {
        var rows: [JSONValue] = []
        for object in objects { rows.append(.object(try ModelEncoder.encode(object))) }
        guard !rows.isEmpty else { return [] }
        var arguments: Arguments = [("model", .string(Model.modelName)), ("rows", .array(rows))]
        arguments.append("shard", ifPresent: shard.map(JSONValue.string))
        let answer = try await perform("add", arguments)
        return try Stored<Model>.list(answer["objects"])
    }

    // MARK: - Reading

    /// The row with this primary key (`get`), or nil when no shard has it.
    ///
    /// Without `shard`, the identity map answers if it holds the key on one shard; else every
    /// shard is asked.
    /// - Parameters:
    ///   - fresh: bypass the identity map and read the row again.
    ///   - include: relationships to load with it (read them from `related`).
    /// - Throws: `ShardError` `ambiguous_identity` (see `keys`) when several shards have the key.
    public func get<Model: ShardModel>(_ type: Model.Type, _ primaryKey: some ShardValueConvertible, shard: String? = nil,
                                       fresh: Bool = false, include: [String] = []) async throws -> Stored<Model>? {
        try await get(type, primaryKey: [primaryKey.shardValue], shard: shard, fresh: fresh, include: include)
    }

    /// The row with this composite primary key (`get`), or nil when no shard has it.
    public func get<Model: ShardModel>(_ type: Model.Type, primaryKey: [ShardValue], shard: String? = nil,
                                       fresh: Bool = false, include: [String] = []) async throws -> Stored<Model>? {
        let answer = try await perform("get", try Self.getArguments(Model.modelName, primaryKey, shard, fresh, include))
        guard let object = answer["object"] else { throw ShardError.invalidResponse("to get has no object") }
        if case .null = object { return nil }
        return try Stored<Model>(answer: object)
    }

    /// The row of an identity key (`get` on the key's shard), or nil when it no longer exists.
    public func get<Model: ShardModel>(_ key: IdentityKey, as type: Model.Type = Model.self, fresh: Bool = false,
                                       include: [String] = []) async throws -> Stored<Model>? {
        try Self.check(key, is: Model.self)
        return try await get(type, primaryKey: key.primaryKey, shard: key.token, fresh: fresh, include: include)
    }

    static func getArguments(_ model: String, _ primaryKey: [ShardValue], _ shard: String?, _ fresh: Bool, _ include: [String]) throws(ShardError) -> Arguments {
        var values: [JSONValue] = []
        for value in primaryKey { values.append(try value.requestJSON()) }
        var arguments: Arguments = [("model", .string(model)), ("pk", values.count == 1 ? values[0] : .array(values))]
        arguments.append("shard", ifPresent: shard.map(JSONValue.string))
        if fresh { arguments.append("fresh", .bool(true)) }
        if !include.isEmpty { arguments.append("include", .array(include.map(JSONValue.string))) }
        return arguments
    }

    /// A query on `type`'s model: chain `where`, `orderBy`, `limit`, `offset`, `include`,
    /// `shard`, then `all()`, `first()`, `count()`...
    public func query<Model: ShardModel>(_ type: Model.Type) -> Query<Model> {
        Query(session: self)
    }

    /// The related objects of `object` (`load`), read on the object's shard.
    ///
    /// A to-many relationship gives its objects in primary-key order; a to-one one gives zero
    /// or one object (see `loadOne`).
    /// - Throws: `ShardError` `unknown_relationship`, `not_found` when the object's row is gone.
    public func load<Model: ShardModel, Related: ShardModel>(_ relationship: String, of object: Stored<Model>,
                                                             as type: Related.Type = Related.self) async throws -> [Stored<Related>] {
        let answer = try await perform("load", [("key", try object.key.requestJSON()), ("relationship", .string(relationship))])
        if let objects = answer["objects"] { return try Stored<Related>.list(objects) }
        guard let one = answer["object"] else { throw ShardError.invalidResponse("to load has neither objects nor object") }
        if case .null = one { return [] }
        return [try Stored<Related>(answer: one)]
    }

    /// The object of a to-one relationship of `object` (`load`), nil when there is none.
    public func loadOne<Model: ShardModel, Related: ShardModel>(_ relationship: String, of object: Stored<Model>,
                                                                as type: Related.Type = Related.self) async throws -> Stored<Related>? {
        try await load(relationship, of: object, as: type).first
    }

    /// The object's row as it is now on its shard (`refresh`).
    ///
    /// With `forUpdate`, the row is also locked for this session's transaction (which this
    /// opens on the row's shard) until it commits or rolls back, SQLAlchemy's
    /// `refresh(obj, with_for_update=True)`: another session's write to it waits, or fails
    /// with `timeout` past the daemon's `request_timeout_ms`.
    /// - Throws: `ShardError` `not_found` when the row no longer exists.
    public func refresh<Model: ShardModel>(_ object: Stored<Model>, forUpdate: Bool = false) async throws -> Stored<Model> {
        var arguments: Arguments = [("key", try object.key.requestJSON())]
        if forUpdate { arguments.append("for_update", .bool(true)) }
        let answer = try await perform("refresh", arguments)
        guard let one = answer["object"] else { throw ShardError.invalidResponse("to refresh has no object") }
        return try Stored<Model>(answer: one)
    }

    // MARK: - Writing

    /// Writes the columns of `object` that changed since it was read (`update` on its shard).
    ///
    /// Columns are compared as the model encodes them; when none changed, nothing is sent and
    /// `object` is returned as it is.
    /// - Throws: `ShardError` `shard_key_change` when the change would move the row to another
    ///   shard, `not_found` when the row is gone.
    @discardableResult
    public func update<Model: ShardModel>(_ object: Stored<Model>) async throws -> Stored<Model> {
        let current = try ModelEncoder.encode(object.value)
        // What the model encoded when it was read: the daemon's text of a timestamp may differ
        // from ours for the same instant, so compare encodings, not texts.
        let before = try ModelEncoder.encode(try ModelDecoder.decode(Model.self, from: object.loaded, key: object.key))
        var changes: [(key: String, value: JSONValue)] = []
        for member in current.members where before[member.key] != member.value {
            changes.append(member)
        }
        guard !changes.isEmpty else { return object }
        return try await update(object, set: ShardRow(answer: JSONObject(changes)))
    }

    /// Sets these columns of `object`'s row (`update` on its shard) and returns the row as it is now.
    @discardableResult
    public func update<Model: ShardModel>(_ object: Stored<Model>, set values: ShardRow) async throws -> Stored<Model> {
        let answer = try await perform("update", [("key", try object.key.requestJSON()), ("values", .object(try values.requestObject()))])
        guard let one = answer["object"] else { throw ShardError.invalidResponse("to update has no object") }
        return try Stored<Model>(answer: one)
    }

    /// Sets columns of `object`'s row, plain or computed by the shard from the row
    /// (`.set("temperature", Column("temperature") + 1.5)`), and returns the row as the shard
    /// wrote it.
    @discardableResult
    public func update<Model: ShardModel>(_ object: Stored<Model>, _ assignments: Assignment...) async throws -> Stored<Model> {
        let answer = try await perform("update", [("key", try object.key.requestJSON()), ("values", try Assignment.values(assignments))])
        guard let one = answer["object"] else { throw ShardError.invalidResponse("to update has no object") }
        return try Stored<Model>(answer: one)
    }

    /// Deletes `object`'s row (`delete` on its shard).
    /// - Throws: `ShardError` `not_found` when it no longer exists.
    public func delete<Model: ShardModel>(_ object: Stored<Model>) async throws {
        try await delete(object.key)
    }

    /// Deletes the row of `key` (`delete` on the key's shard).
    public func delete(_ key: IdentityKey) async throws {
        _ = try await perform("delete", [("key", try key.requestJSON())])
    }

    /// Sets columns of every row of `type` that matches (`update_where`); the identity map
    /// follows. `shards` overrides the execute chooser.
    @discardableResult
    public func updateWhere<Model: ShardModel>(_ type: Model.Type, _ predicate: Predicate? = nil, set values: ShardRow,
                                               shards: [String]? = nil) async throws -> CountResult {
        try CountResult(try await perform("update_where", try Self.updateWhereArguments(Model.modelName, predicate, .object(try values.requestObject()), shards)))
    }

    /// Sets columns of every row of `type` that matches, plain or computed by each shard from
    /// the row (`update_where`); the identity map gets the values the shards computed.
    @discardableResult
    public func updateWhere<Model: ShardModel>(_ type: Model.Type, _ predicate: Predicate? = nil, _ assignments: [Assignment],
                                               shards: [String]? = nil) async throws -> CountResult {
        try CountResult(try await perform("update_where", try Self.updateWhereArguments(Model.modelName, predicate, try Assignment.values(assignments), shards)))
    }

    /// `update_where`'s arguments, for the typed and the dynamic API alike.
    static func updateWhereArguments(_ model: String, _ predicate: Predicate?, _ values: JSONValue, _ shards: [String]?) throws(ShardError) -> Arguments {
        var arguments: Arguments = [("model", .string(model))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        arguments.append("values", values)
        arguments.appendShards(shards)
        return arguments
    }

    /// Deletes every row of `type` that matches (`delete_where`); `shards` overrides the execute chooser.
    @discardableResult
    public func deleteWhere<Model: ShardModel>(_ type: Model.Type, _ predicate: Predicate? = nil,
                                               shards: [String]? = nil) async throws -> CountResult {
        var arguments: Arguments = [("model", .string(Model.modelName))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        arguments.appendShards(shards)
        return try CountResult(try await perform("delete_where", arguments))
    }

    /// Aggregates rows of `type` across shards (`aggregate`), combined exactly.
    ///
    /// ```swift
    /// try await session.aggregate(Report.self, [.avg("temperature"), .count()], groupBy: ["location_id"])
    /// ```
    /// - Parameters:
    ///   - having: a condition over the aliases, e.g. `Column("count") > 1`.
    ///   - orderBy: over group columns and aliases.
    public func aggregate<Model: ShardModel>(_ type: Model.Type, _ select: [Aggregate], where predicate: Predicate? = nil,
                                             groupBy: [String] = [], having: Predicate? = nil, orderBy: [Ordering] = [],
                                             limit: Int? = nil, shards: [String]? = nil) async throws -> AggregateResult {
        try AggregateResult(try await perform("aggregate", try Self.aggregateArguments(
            Model.modelName, select, predicate, groupBy, having, orderBy, limit, shards)))
    }

    static func aggregateArguments(_ model: String, _ select: [Aggregate], _ predicate: Predicate?, _ groupBy: [String],
                                   _ having: Predicate?, _ orderBy: [Ordering], _ limit: Int?, _ shards: [String]?) throws(ShardError) -> Arguments {
        var arguments: Arguments = [("model", .string(model)), ("select", .array(select.map(\.requestJSON)))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        if !groupBy.isEmpty { arguments.append("group_by", .array(groupBy.map(JSONValue.string))) }
        arguments.append("having", ifPresent: try having?.requestJSON())
        if !orderBy.isEmpty { arguments.append("order_by", Ordering.requestJSON(orderBy)) }
        arguments.append("limit", ifPresent: limit.map { .int(Int64($0)) })
        arguments.appendShards(shards)
        return arguments
    }

    // MARK: - The identity map

    /// Forgets `object` in the session's identity map (`expunge`); the row is untouched.
    /// - Returns: whether the map held it.
    @discardableResult
    public func expunge<Model: ShardModel>(_ object: Stored<Model>) async throws -> Bool {
        try await expunge(object.key)
    }

    /// Forgets `key` in the session's identity map (`expunge`).
    @discardableResult
    public func expunge(_ key: IdentityKey) async throws -> Bool {
        let answer = try await perform("expunge", [("key", try key.requestJSON())])
        guard case .bool(let expunged)? = answer["expunged"] else { throw ShardError.invalidResponse("to expunge has no expunged") }
        return expunged
    }

    /// Empties the session's identity map (`expunge_all`).
    /// - Returns: how many keys it held.
    @discardableResult
    public func expungeAll() async throws -> Int {
        let answer = try await perform("expunge_all")
        guard let count = answer["expunged"]?.intValue else { throw ShardError.invalidResponse("to expunge_all has no count") }
        return Int(count)
    }

    /// The keys in the session's identity map (`identity_keys`), of every model.
    public func identityKeys() async throws -> [IdentityKey] {
        try await identityKeys(model: nil)
    }

    /// The keys of `type`'s model in the session's identity map (`identity_keys`).
    public func identityKeys<Model: ShardModel>(_ type: Model.Type) async throws -> [IdentityKey] {
        try await identityKeys(model: Model.modelName)
    }

    /// The keys of the model named `model` (every model when nil) in the session's identity map.
    public func identityKeys(model: String?) async throws -> [IdentityKey] {
        var arguments: Arguments = []
        arguments.append("model", ifPresent: model.map(JSONValue.string))
        let answer = try await perform("identity_keys", arguments)
        guard case .array(let keys)? = answer["keys"] else { throw ShardError.invalidResponse("to identity_keys has no keys") }
        var result: [IdentityKey] = []
        result.reserveCapacity(keys.count)
        for key in keys { result.append(try IdentityKey(json: key)) }
        return result
    }

    static func check<Model: ShardModel>(_ key: IdentityKey, is type: Model.Type) throws(ShardError) {
        guard key.model == Model.modelName else {
            throw ShardError(.badRequest, "\(key) is a key of \(key.model), not of \(Model.modelName) (\(Model.self))")
        }
    }
}
