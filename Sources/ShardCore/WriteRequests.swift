import ShardProtocol

/// `add` (protocol.md 5.1, 8): new rows, each checked and completed (`Model.newRow`) before
/// anything is written or any id is taken.
package struct AddRequest: Sendable {
    package var model: Model
    /// In input order; a key still to be made (sequence, shard_local) has no entry.
    package var rows: [[String: ShardValue]]
    /// The request's `shard`, checked; nil: the shard chooser places each row.
    package var shard: String?

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        model = try reader.model()
        let single = reader.optional("values")
        let many = reader.optional("rows")
        let explicitShard = try reader.optionalString("shard")
        try reader.checkNoUnknownArguments()

        let inputs: [JSONValue]
        switch (single, many) {
        case (let values?, nil): inputs = [values]
        case (nil, .array(let rows)?) where !rows.isEmpty: inputs = rows
        case (nil, .array?): throw ShardError(.badRequest, "rows must hold at least one row")
        case (nil, _?): throw ShardError(.badRequest, "rows must be a list of value objects")
        case (nil, nil): throw ShardError(.badRequest, "add needs values (one row) or rows (a list), e.g. {\"values\": {\"city\": \"Tokyo\"}}")
        case (_?, _?): throw ShardError(.badRequest, "give values or rows, not both")
        }
        var rows: [[String: ShardValue]] = []
        rows.reserveCapacity(inputs.count)
        // One instant for every row of the request (config.md `default = "now"`).
        let now = reader.now()
        for input in inputs {
            let values = try ArgumentReader.columnValues(input, of: model, argument: "values")
            var given: [String: ShardValue] = [:]
            given.reserveCapacity(values.count)
            for (column, value) in values { given[column.name] = value }
            do {
                rows.append(try model.newRow(given, now: now))
            } catch {
                throw ShardError(error)
            }
        }
        self.rows = rows
        shard = try explicitShard.map { name throws(ShardError) in try reader.shardOrder.checked(name) }
    }
}

/// `update` (protocol.md 8): one row by key.
package struct UpdateRequest: Sendable {
    package var key: IdentityKey
    package var model: Model
    /// Plain and computed values, then the `on_update` columns.
    package var changes: [(column: String, value: Assignment)]

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        (key, model) = try reader.key()
        let values = try reader.required("values", "{\"temperature\": 86}")
        try reader.checkNoUnknownArguments()
        changes = try ArgumentReader.changes(values, of: model, op: "update", now: reader.now())
        if let rule = model.shardBy, changes.contains(where: { $0.column == rule.column && !$0.value.isPlain }) {
            throw ShardError(.shardKeyChange, "\(model.name).\(rule.column) decides the row's shard; update cannot compute it (delete and add the row instead)",
                             details: [("column", .string(rule.column))])
        }
    }
}

/// `update_where` (protocol.md 8).
package struct UpdateWhereRequest: Sendable {
    package var model: Model
    package var filter: Expression?
    /// Plain and computed values, then the `on_update` columns.
    package var changes: [(column: String, value: Assignment)]
    /// The request's `shard`/`shards`, checked; nil: the execute chooser decides.
    package var shards: [String]?

    init(_ reader: inout ArgumentReader) throws(ShardError) {
        model = try reader.model()
        filter = try reader.filter(of: model)
        let values = try reader.required("values", "{\"temperature\": 86}")
        let explicit = try reader.explicitShards()
        try reader.checkNoUnknownArguments()
        if let key = model.shardBy?.column, case .object(let object) = values, object.members.contains(where: { $0.key == key }) {
            throw ShardError(.shardKeyChange, "\(model.name).\(key) decides the rows' shards; update_where cannot change it (delete and add the rows instead)",
                             details: [("column", .string(key))])
        }
        changes = try ArgumentReader.changes(values, of: model, op: "update_where", now: reader.now())
        shards = try reader.checkedShards(explicit)
    }
}

extension ShardError {
    /// A refused new row, with its column.
    init(_ error: RowError) {
        self.init(error.code == .unknownColumn ? .unknownColumn : .invalidValue, error.message,
                  details: [("column", .string(error.column))])
    }
}
