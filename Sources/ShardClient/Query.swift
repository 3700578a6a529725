/// A query on one model, built step by step and run with `all()`, `first()`, `count()`...
///
/// ```swift
/// let hottest = try await session.query(Report.self)
///     .where(Column("temperature") >= 80)
///     .orderBy("-temperature", "id")
///     .limit(10)
///     .all()
/// ```
///
/// Without `shard`/`shards`, the daemon's execute chooser picks the shards from the `where`
/// on the model's shard key (protocol.md 5); every answer names the shards it asked.
public struct Query<Model: ShardModel>: Sendable {
    let session: ShardSession
    /// The `where`, AND of every `where` call.
    public private(set) var predicate: Predicate?
    /// The `order_by` terms.
    public private(set) var orderings: [Ordering] = []
    /// The `limit`.
    public private(set) var limitCount: Int?
    /// The `offset`.
    public private(set) var offsetCount: Int?
    /// The relationships to load eagerly.
    public private(set) var includes: [String] = []
    /// The shards named with `shard`/`shards` (nil: the execute chooser decides).
    public private(set) var shardNames: [String]?

    init(session: ShardSession) {
        self.session = session
    }

    /// Keeps the rows that match `predicate` (ANDed with earlier `where`s).
    public func `where`(_ predicate: Predicate) -> Query {
        var query = self
        query.predicate = self.predicate.map { $0 && predicate } ?? predicate
        return query
    }

    /// Keeps the rows whose columns equal these values: `.where(["continent": "Asia"])`.
    public func `where`(_ equalities: ShardRow) -> Query {
        self.where(Predicate.equals(equalities))
    }

    /// Orders by these terms, after earlier ones: `.orderBy("-temperature", "id")`.
    public func orderBy(_ orderings: Ordering...) -> Query {
        orderBy(orderings)
    }

    /// Orders by these terms, after earlier ones.
    public func orderBy(_ orderings: [Ordering]) -> Query {
        var query = self
        query.orderings += orderings
        return query
    }

    /// At most `count` rows (applied once, after merging the shards' rows).
    public func limit(_ count: Int) -> Query {
        var query = self
        query.limitCount = count
        return query
    }

    /// Skips the first `count` rows of the merged result.
    public func offset(_ count: Int) -> Query {
        var query = self
        query.offsetCount = count
        return query
    }

    /// Loads these relationships with each object (read them from `related`).
    public func include(_ relationships: String...) -> Query {
        var query = self
        query.includes += relationships
        return query
    }

    /// Runs on this shard only (overrides the execute chooser).
    public func shard(_ name: String) -> Query {
        shards([name])
    }

    /// Runs on these shards only (overrides the execute chooser).
    public func shards(_ names: [String]) -> Query {
        var query = self
        query.shardNames = names
        return query
    }

    // MARK: - Running

    /// The matching objects (`query`).
    /// - Throws: `ShardError` (`unknown_column`, `result_too_large` without a small enough limit...).
    public func all() async throws -> [Stored<Model>] {
        try await fetch().objects
    }

    /// The matching objects and the shards that were asked (`query`).
    public func fetch() async throws -> QueryResult<Model> {
        let answer = try await session.perform("query", try arguments())
        guard let shards = answer["shards"]?.stringsValue else { throw ShardError.invalidResponse("to query has no shards") }
        return QueryResult(objects: try Stored<Model>.list(answer["objects"]), shards: shards)
    }

    /// One page of at most `size` objects in the query's order, after the position `cursor`
    /// names (protocol.md 8.1): each shard reads only the rows past it, however deep the page.
    /// Pass the page's `next` for the following page; it is nil after the last one.
    ///
    /// A cursor belongs to this query (model, `where`, order, shards): another query refuses it
    /// with `bad_request`. `limit` and `offset` do not combine with pages.
    public func page(size: Int, after cursor: String? = nil) async throws -> QueryPage<Model> {
        var arguments = try arguments()
        arguments.append("page_size", .int(Int64(size)))
        arguments.append("after", ifPresent: cursor.map(JSONValue.string))
        let answer = try await session.perform("query", arguments)
        guard let shards = answer["shards"]?.stringsValue else { throw ShardError.invalidResponse("to query has no shards") }
        let next: String?
        switch answer["next"] {
        case .string(let cursor)?: next = cursor
        case .null?: next = nil
        default: throw ShardError.invalidResponse("to a query with page_size has no next")
        }
        return QueryPage(objects: try Stored<Model>.list(answer["objects"]), shards: shards, next: next)
    }

    /// Every page of at most `size` objects, in the query's order, one request per page:
    /// ```swift
    /// for try await page in session.query(Report.self).orderBy("-temperature", "id").pages(size: 50) { ... }
    /// ```
    public func pages(size: Int) -> QueryPages<Model> {
        QueryPages(query: self, size: size)
    }

    private func arguments() throws(ShardError) -> Arguments {
        var arguments: Arguments = [("model", .string(Model.modelName))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        if !orderings.isEmpty { arguments.append("order_by", Ordering.requestJSON(orderings)) }
        arguments.append("limit", ifPresent: limitCount.map { .int(Int64($0)) })
        arguments.append("offset", ifPresent: offsetCount.map { .int(Int64($0)) })
        if !includes.isEmpty { arguments.append("include", .array(includes.map(JSONValue.string))) }
        arguments.appendShards(shardNames)
        return arguments
    }

    /// The first matching object (the query with `limit` 1), nil when none matches.
    public func first() async throws -> Stored<Model>? {
        try await limit(min(limitCount ?? 1, 1)).all().first
    }

    /// How many rows match (`count`).
    /// - Throws: `ShardError` `bad_request` when the query has a `limit` or `offset`, which
    ///   `count` cannot apply.
    public func count() async throws -> Int {
        try await countPerShard().count
    }

    /// How many rows match, per shard (`count`).
    public func countPerShard() async throws -> CountResult {
        try checkNoWindow("count")
        var arguments: Arguments = [("model", .string(Model.modelName))]
        arguments.append("where", ifPresent: try predicate?.requestJSON())
        arguments.appendShards(shardNames)
        return try CountResult(try await session.perform("count", arguments))
    }

    /// Aggregates the matching rows (`aggregate` with this query's `where` and shards).
    public func aggregate(_ select: [Aggregate], groupBy: [String] = [], having: Predicate? = nil,
                          orderBy: [Ordering] = [], limit: Int? = nil) async throws -> AggregateResult {
        try checkNoWindow("aggregate")
        return try await session.aggregate(Model.self, select, where: predicate, groupBy: groupBy, having: having,
                                           orderBy: orderBy, limit: limit, shards: shardNames)
    }

    /// Sets these columns on every matching row (`update_where`).
    /// - Throws: `ShardError` `bad_request` when the query has a `limit`, `offset` or `order_by`:
    ///   `update_where` changes every matching row.
    @discardableResult
    public func update(set values: ShardRow) async throws -> CountResult {
        try checkNoWindow("update_where", orderMatters: true)
        return try await session.updateWhere(Model.self, predicate, set: values, shards: shardNames)
    }

    /// Sets columns of every matching row, plain or computed by each shard from the row
    /// (`update_where`): `.update(.set("temperature", Column("temperature") + 1.5))`.
    @discardableResult
    public func update(_ assignments: Assignment...) async throws -> CountResult {
        try checkNoWindow("update_where", orderMatters: true)
        return try await session.updateWhere(Model.self, predicate, assignments, shards: shardNames)
    }

    /// Deletes every matching row (`delete_where`).
    /// - Throws: `ShardError` `bad_request` when the query has a `limit`, `offset` or `order_by`:
    ///   `delete_where` deletes every matching row.
    @discardableResult
    public func delete() async throws -> CountResult {
        try checkNoWindow("delete_where", orderMatters: true)
        return try await session.deleteWhere(Model.self, predicate, shards: shardNames)
    }

    /// Refuses a limit or offset that the op would silently ignore.
    private func checkNoWindow(_ op: String, orderMatters: Bool = false) throws(ShardError) {
        if limitCount != nil || offsetCount != nil || (orderMatters && !orderings.isEmpty) {
            throw ShardError(.badRequest, "\(op) applies to every matching row; it takes no limit, offset\(orderMatters ? " or order_by" : ""): remove them from the query")
        }
    }
}
