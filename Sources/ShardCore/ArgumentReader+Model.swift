import ShardProtocol

/// Arguments in the model's terms: models, keys, columns, expressions, relationships, shards.
extension ArgumentReader {
    /// `model`, a model of the configuration.
    package mutating func model() throws(ShardError) -> Model {
        let name = try string("model", "\"Report\"")
        guard let model = configuration.model(named: name) else {
            throw ShardError(.unknownModel, "\"\(name)\" is not a model (models: \(configuration.models.map(\.name).joined(separator: ", ")))")
        }
        return model
    }

    /// `key`, an identity key whose model, shard and key values the configuration has.
    package mutating func key(_ example: String = "[\"Report\", [1], \"asia\"]") throws(ShardError) -> (key: IdentityKey, model: Model) {
        let key = try IdentityKey(json: try required("key", example), configuration: configuration)
        return (key, configuration.model(named: key.model)!)
    }

    /// `where` over `model`, when given.
    package mutating func filter(of model: Model) throws(ShardError) -> Expression? {
        try optional("where").map { json throws(ShardError) in try Expression(where: json, model: model, configuration: configuration) }
    }

    /// `order_by` over `model` (empty when not given).
    package mutating func order(of model: Model) throws(ShardError) -> [SortKey] {
        try optional("order_by").map { json throws(ShardError) in try SortKey.parse(orderBy: json, model: model) } ?? []
    }

    /// The request's `shard` or `shards`, nil when it gave neither (not yet checked against
    /// the configuration: see `checkedShards`).
    package mutating func explicitShards() throws(ShardError) -> [String]? {
        let one = try optionalString("shard")
        let many = optional("shards")
        switch (one, many) {
        case (nil, nil), (nil, .null?):
            return nil
        case (let name?, nil), (let name?, .null?):
            return [name]
        case (nil, .array(let items)?):
            return try items.map { item throws(ShardError) -> String in
                guard case .string(let name) = item else { throw ShardError(.badRequest, "shards must be a list of shard names") }
                return name
            }
        case (nil, _?):
            throw ShardError(.badRequest, "shards must be a list of shard names, e.g. [\"asia\", \"europe\"]")
        case (_?, _?):
            throw ShardError(.badRequest, "give shard or shards, not both")
        }
    }

    /// `names` checked against the configuration, without repeats, in file order.
    /// - Throws: `unknown_shard` for the first name that is not a shard.
    package func checkedShards(_ names: [String]?) throws(ShardError) -> [String]? {
        try names.map { names throws(ShardError) in try shardOrder.checked(names) }
    }

    /// `include`: the relationships to load with each object, checked against the model.
    package mutating func includes(of model: Model) throws(ShardError) -> [Relationship] {
        switch optional("include") {
        case nil, .null?:
            return []
        case .array(let names)?:
            var out: [Relationship] = []
            for name in names {
                guard case .string(let name) = name else { throw ShardError(.badRequest, "include is a list of relationship names, e.g. [\"reports\"]") }
                guard let relationship = model.relationship(named: name) else {
                    throw ShardError(.unknownRelationship, "\(model.name) has no relationship \"\(name)\" (relationships: \(model.relationships.isEmpty ? "none" : model.relationships.map(\.name).joined(separator: ", ")))")
                }
                if !out.contains(relationship) { out.append(relationship) }
            }
            return out
        default:
            throw ShardError(.badRequest, "include is a list of relationship names, e.g. [\"reports\"]")
        }
    }

    /// A primary key given as a scalar (single-column keys) or a list, checked against the
    /// key's column types.
    package static func primaryKey(_ json: JSONValue, of model: Model) throws(ShardError) -> [ShardValue] {
        let columns = model.primaryKeyColumns
        let items: [JSONValue]
        if case .array(let list) = json { items = list } else { items = [json] }
        guard items.count == columns.count else {
            throw ShardError(.badRequest, "\(model.name)'s primary key is (\(model.primaryKey.joined(separator: ", "))): give \(columns.count) value(s), got \(items.count)")
        }
        var key: [ShardValue] = []
        for (item, column) in zip(items, columns) {
            key.append(try ShardValue(json: item, for: column, nullable: false))
        }
        return key
    }

    /// Column values from a JSON object, each checked against its column's type.
    package static func columnValues(_ json: JSONValue, of model: Model, argument: String) throws(ShardError) -> [(column: Column, value: ShardValue)] {
        guard case .object(let object) = json else {
            throw ShardError(.badRequest, "\(argument) must be an object of column values, e.g. {\"temperature\": 80.5}")
        }
        var out: [(column: Column, value: ShardValue)] = []
        out.reserveCapacity(object.members.count)
        for (name, item) in object.members {
            guard let column = model.column(named: name) else {
                throw ShardError(.unknownColumn, "\(model.name) has no column \"\(name)\" (columns: \(model.columns.map(\.name).joined(separator: ", ")))",
                                 details: [("column", .string(name))])
            }
            out.append((column, try ShardValue(json: item, for: column, nullable: true)))
        }
        return out
    }

    /// The changes of an `update`/`update_where` (`values`): at least one, none of the
    /// primary key, each value checked against its column's nullability, or computed by the
    /// shards (`Assignment`); then every `on_update = "now"` column the request does not set,
    /// at `now`.
    package static func changes(_ json: JSONValue, of model: Model, op: String,
                                now: Timestamp) throws(ShardError) -> [(column: String, value: Assignment)] {
        guard case .object(let object) = json else {
            throw ShardError(.badRequest, "values must be an object of column values, e.g. {\"temperature\": 80.5} or {\"temperature\": [\"+\", \"temperature\", 1.5]}")
        }
        guard !object.members.isEmpty else { throw ShardError(.badRequest, "values must name at least one column to change") }
        var changes: [(column: String, value: Assignment)] = []
        for (name, item) in object.members {
            guard let column = model.column(named: name) else {
                throw ShardError(.unknownColumn, "\(model.name) has no column \"\(name)\" (columns: \(model.columns.map(\.name).joined(separator: ", ")))",
                                 details: [("column", .string(name))])
            }
            if model.primaryKey.contains(column.name) {
                throw ShardError(.badRequest, "\(model.name).\(column.name) is part of the primary key, which \(op) cannot change")
            }
            switch try Assignment(json: item, for: column, of: model, now: now) {
            case .computed(let computed):
                changes.append((column.name, .computed(computed)))
            case .value(let value):
                do {
                    changes.append((column.name, .value(try value.checked(for: column.type, nullable: column.nullable, column: column.name))))
                } catch {
                    throw ShardError(.invalidValue, "column \(column.name): \(error.reason)", details: [("column", .string(column.name))])
                }
            }
        }
        for column in model.columns where column.onUpdateNow && !changes.contains(where: { $0.column == column.name }) {
            changes.append((column.name, .value(.timestamp(now))))
        }
        return changes
    }

    /// The only argument of an op that takes an optional `model`: checked to be a model.
    package mutating func onlyOptionalModel() throws(ShardError) -> String? {
        let model = try optionalString("model")
        try checkNoUnknownArguments()
        if let model, configuration.model(named: model) == nil {
            throw ShardError(.unknownModel, "\"\(model)\" is not a model (models: \(configuration.models.map(\.name).joined(separator: ", ")))")
        }
        return model
    }
}
