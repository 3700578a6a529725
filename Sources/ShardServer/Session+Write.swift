import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `update` (protocol.md 8): one row by key, on the shard in the key.
    func update(_ request: inout Request) async throws -> JSONObject {
        let key = try IdentityKey(json: try request.required("key", "[\"Report\", [1], \"asia\"]"), configuration: configuration)
        let model = configuration.model(named: key.model)!
        let values = try columnValues(try request.required("values", "{\"temperature\": 86}"), of: model, argument: "values")
        try request.checkNoUnknownArguments()
        let changes = try Session.changes(values, of: model, op: "update")
        try await checkStaysOnShard(model, changes, token: key.token)

        let shard = try shard(named: key.token)
        let statement = shard.dialect.update(model, key: key.primaryKey, set: changes)
        let description = key.messageText
        let rows = try await writeEach([(shard, { @Sendable connection in
            guard let row = try connection.run(statement).rows.first else {
                throw ShardError(.notFound, "\(description) no longer exists", details: [("shard", .string(shard.name))])
            }
            return row
        })])
        return JSONObject([("object", remember(rows[0], of: model, on: key.token))])
    }

    /// The column changes of an `update`/`update_where`: at least one, none of the primary
    /// key, each value checked against its column's nullability.
    static func changes(_ values: [(column: Column, value: ShardValue)], of model: Model, op: String) throws(ShardError) -> [(column: String, value: ShardValue)] {
        guard !values.isEmpty else { throw ShardError(.badRequest, "values must name at least one column to change") }
        var changes: [(column: String, value: ShardValue)] = []
        for (column, value) in values {
            if model.primaryKey.contains(column.name) {
                throw ShardError(.badRequest, "\(model.name).\(column.name) is part of the primary key, which \(op) cannot change")
            }
            do {
                changes.append((column.name, try value.checked(for: column.type, nullable: column.nullable, column: column.name)))
            } catch {
                throw ShardError(.invalidValue, "column \(column.name): \(error.reason)", details: [("column", .string(column.name))])
            }
        }
        return changes
    }

    /// `shard_key_change` when new values would place the row on another shard than its own.
    func checkStaysOnShard(_ model: Model, _ changes: [(column: String, value: ShardValue)], token: String) async throws {
        guard let rule = model.shardBy, let change = changes.first(where: { $0.column == rule.column }) else { return }
        let refusal = ShardError(.shardKeyChange,
                                   "\(model.name).\(rule.column) decides the row's shard; this change would move it off \(token), which update does not do (delete and add it instead)",
                                   details: [("column", .string(rule.column)), ("shard", .string(token))])
        switch rule {
        case .parent(let parentModel, _):
            guard change.value != .null, let parent = configuration.model(named: parentModel) else { throw refusal }
            if tokens(of: parentModel, key: [change.value]).contains(token) { return }
            let shard = try shard(named: token)
            let statement = shard.pointSelects.statement(parent, [change.value])
            if try await read(on: shard, { try $0.run(statement).rows.isEmpty }) { throw refusal }
        default:
            if rule.shard(for: change.value, shards: context.shardOrder) != token { throw refusal }
        }
    }

    /// `delete` (protocol.md 8): one row by key, on the shard in the key.
    func delete(_ request: inout Request) async throws -> JSONObject {
        let key = try IdentityKey(json: try request.required("key", "[\"Report\", [1], \"asia\"]"), configuration: configuration)
        try request.checkNoUnknownArguments()
        let model = configuration.model(named: key.model)!
        let shard = try shard(named: key.token)
        let statement = shard.dialect.delete(model, key: key.primaryKey)
        let description = key.messageText
        _ = try await writeEach([(shard, { @Sendable connection in
            guard try connection.run(statement).rowsAffected == 1 else {
                throw ShardError(.notFound, "\(description) no longer exists", details: [("shard", .string(shard.name))])
            }
        })])
        identityMap.remove(key)
        return JSONObject([("deleted", .bool(true))])
    }

    // MARK: - The identity map's own ops

    func expunge(_ request: inout Request) throws(ShardError) -> JSONObject {
        let key = try IdentityKey(json: try request.required("key", "[\"Report\", [1], \"asia\"]"), configuration: configuration)
        try request.checkNoUnknownArguments()
        return JSONObject([("expunged", .bool(identityMap.remove(key)))])
    }

    func expungeAll(_ request: inout Request) throws(ShardError) -> JSONObject {
        try request.checkNoUnknownArguments()
        return JSONObject([("expunged", .int(Int64(identityMap.removeAll())))])
    }

    func identityKeys(_ request: inout Request) throws(ShardError) -> JSONObject {
        let modelName = try request.optionalString("model")
        try request.checkNoUnknownArguments()
        if let modelName, configuration.model(named: modelName) == nil {
            throw ShardError(.unknownModel, "\"\(modelName)\" is not a model (models: \(configuration.models.map(\.name).joined(separator: ", ")))")
        }
        return JSONObject([("keys", .array(identityMap.keys(model: modelName).map(\.responseJSON)))])
    }
}
