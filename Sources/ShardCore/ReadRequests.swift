import ShardProtocol

/// `get` (protocol.md 5.2, 8): a row by primary key.
package struct GetRequest: Sendable {
    package var model: Model
    package var primaryKey: [ShardValue]
    /// The shards to ask, in file order: the request's `shard`, else all (the identity chooser).
    package var shards: [String]
    /// Bypass the identity map.
    package var fresh: Bool
    package var include: [Relationship]

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        model = try reader.model()
        primaryKey = try ArgumentReader.primaryKey(try reader.required("pk", "1"), of: model)
        let explicitShard = try reader.optionalString("shard")
        fresh = try reader.optionalBool("fresh") ?? false
        include = try reader.includes(of: model)
        try reader.checkNoUnknownArguments()
        shards = try IdentityChooser(shards: reader.shardOrder).shards(explicitShard: explicitShard)
    }
}

/// `query` (protocol.md 5.3, 7, 8).
package struct QueryRequest: Sendable {
    package var model: Model
    package var filter: Expression?
    package var order: [SortKey]
    package var limit: Int?
    package var offset: Int
    package var include: [Relationship]
    /// The request's `shard`/`shards`, checked, in file order; nil: the execute chooser decides.
    package var shards: [String]?
    /// `page_size` (8.1): answer at most this many and a `next` cursor.
    package var pageSize: Int?
    /// `after` (8.1): the position this page continues from.
    package var after: PageCursor?
    /// The fingerprint a `next` cursor of this query carries.
    package var fingerprint: UInt64

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        model = try reader.model()
        fingerprint = PageCursor.fingerprint(model: model.name, ["where", "order_by", "shard", "shards"].map { reader.optional($0) })
        filter = try reader.filter(of: model)
        order = try reader.order(of: model)
        limit = try reader.optionalCount("limit")
        offset = try reader.optionalCount("offset") ?? 0
        include = try reader.includes(of: model)
        let explicit = try reader.explicitShards()
        pageSize = try reader.optionalCount("page_size")
        let cursor = try reader.optionalString("after")
        try reader.checkNoUnknownArguments()
        shards = try reader.checkedShards(explicit)
        let maxRows = reader.configuration.server.maxResultRows
        if let pageSize, pageSize < 1 || pageSize > maxRows {
            throw ShardError(.badRequest, "page_size must be from 1 to \(maxRows) (max_result_rows), got \(pageSize)")
        }
        if pageSize != nil, limit != nil {
            throw ShardError(.badRequest, "page_size and limit do not combine: page_size answers pages of that many rows, following next until it is null")
        }
        if let cursor {
            guard pageSize != nil else { throw ShardError(.badRequest, "after needs page_size: send the same query with page_size and the previous page's next") }
            guard offset == 0 else { throw ShardError(.badRequest, "offset and after do not combine: the cursor already says where the page starts") }
            let columns = (order + tiebreak).map { model.column(named: $0.column)! }
            after = try PageCursor(decoding: cursor, fingerprint: fingerprint, columns: columns)
        }
    }

    /// The primary key columns `order_by` does not name: each shard's own order after it.
    package var tiebreak: [SortKey] {
        model.primaryKey.filter { key in !order.contains { $0.column == key } }.map { SortKey(column: $0) }
    }
}

/// An op over the rows a `where` matches, with nothing else to say: `count` and `delete_where`
/// (protocol.md 8).
package struct FilterRequest: Sendable {
    package var model: Model
    package var filter: Expression?
    /// The request's `shard`/`shards`, checked; nil: the execute chooser decides.
    package var shards: [String]?

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        model = try reader.model()
        filter = try reader.filter(of: model)
        let explicit = try reader.explicitShards()
        try reader.checkNoUnknownArguments()
        shards = try reader.checkedShards(explicit)
    }
}

/// `aggregate` (protocol.md 8): the plan of partials, and what applies after combining.
package struct AggregateRequest: Sendable {
    package var plan: AggregatePlan
    package var filter: Expression?
    /// Over the answer's columns (`plan.resultModel`).
    package var having: Expression?
    /// Over the answer's columns.
    package var order: [SortKey]
    package var limit: Int?
    /// The request's `shard`/`shards`, checked; nil: the execute chooser decides.
    package var shards: [String]?

    package var model: Model { plan.model }

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        let model = try reader.model()
        plan = try AggregatePlan(model: model, select: try reader.required("select", "[[\"avg\", \"temperature\"]]"),
                                 groupBy: reader.optional("group_by"))
        filter = try reader.filter(of: model)
        let resultModel = plan.resultModel
        having = try reader.optional("having").map { json throws(ShardError) in try Expression(where: json, model: resultModel) }
        order = try reader.order(of: resultModel)
        limit = try reader.optionalCount("limit")
        let explicit = try reader.explicitShards()
        try reader.checkNoUnknownArguments()
        shards = try reader.checkedShards(explicit)
    }
}

/// `load` (protocol.md 5.4, 8): a relationship of one object.
package struct LoadRequest: Sendable {
    package var key: IdentityKey
    package var model: Model
    package var relationship: Relationship
    /// The model the relationship leads to.
    package var other: Model

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        (key, model) = try reader.key("[\"WeatherLocation\", [1], \"asia\"]")
        let name = try reader.string("relationship", "\"reports\"")
        try reader.checkNoUnknownArguments()
        guard let relationship = model.relationship(named: name), let other = reader.configuration.model(named: relationship.model) else {
            throw ShardError(.unknownRelationship, "\(model.name) has no relationship \"\(name)\" (relationships: \(model.relationships.isEmpty ? "none" : model.relationships.map(\.name).joined(separator: ", ")))")
        }
        self.relationship = relationship
        self.other = other
    }
}

/// `refresh` (protocol.md 8): one row read again from its shard, locked with `for_update`.
package struct RefreshRequest: Sendable {
    package var key: IdentityKey
    package var model: Model
    /// Lock the row for the session's transaction (which this opens on the row's shard).
    package var forUpdate: Bool

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        (key, model) = try reader.key()
        forUpdate = try reader.optionalBool("for_update") ?? false
        try reader.checkNoUnknownArguments()
    }
}

/// An op on one row named by its identity key (`delete`).
package struct KeyRequest: Sendable {
    package var key: IdentityKey
    package var model: Model

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        (key, model) = try reader.key()
        try reader.checkNoUnknownArguments()
    }
}
