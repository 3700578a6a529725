import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `update` (protocol.md 8): one row by key, on the shard in the key.
    func update(_ request: UpdateRequest) async throws -> JSONObject {
        let (key, model, changes) = (request.key, request.model, request.changes)
        try await checkStaysOnShard(model, changes, token: key.token)

        let shard = try shard(named: key.token)
        let statement = shard.dialect.update(model, key: key.primaryKey, set: changes)
        let interest = context.feed.interest(in: model.name)
        // The row as it was, when a subscription must know whether it matched before.
        let before = interest?.oldRowsOfUpdates == true ? shard.dialect.selectForUpdate(model, key.primaryKey) : nil
        let description = key.messageText
        let rows = try await orMoved(key, model: model) {
            try await writeEach([(shard, { @Sendable connection in
                let old = try before.flatMap { try connection.run($0).rows.first }
                guard let row = try connection.run(statement).rows.first else {
                    throw ShardError(.notFound, "\(description) no longer exists", details: [("shard", .string(shard.name))])
                }
                return (old: old, new: row)
            })])
        }
        if interest?.kinds.contains(.update) == true { recordChanges([RowChange(.update, model, shard: shard.name, old: rows[0].old, new: rows[0].new)]) }
        return JSONObject([("object", remember(rows[0].new, of: model, on: key.token))])
    }

    /// `shard_key_change` when new values would place the row on another shard than its own.
    func checkStaysOnShard(_ model: Model, _ changes: [(column: String, value: Assignment)], token: String) async throws {
        // A computed shard key was refused when the request was read.
        guard let rule = model.shardBy, let value = changes.first(where: { $0.column == rule.column })?.value.plainValue else { return }
        let change = (column: rule.column, value: value)
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
    func delete(_ request: KeyRequest) async throws -> JSONObject {
        let (key, model) = (request.key, request.model)
        let shard = try shard(named: key.token)
        let statement = shard.dialect.delete(model, key: key.primaryKey)
        // A delete's event carries the row as it was.
        let before = context.feed.interest(in: model.name)?.kinds.contains(.delete) == true ? shard.dialect.selectForUpdate(model, key.primaryKey) : nil
        let description = key.messageText
        let old = try await orMoved(key, model: model) {
            try await writeEach([(shard, { @Sendable connection in
                let old = try before.flatMap { try connection.run($0).rows.first }
                guard try connection.run(statement).rowsAffected == 1 else {
                    throw ShardError(.notFound, "\(description) no longer exists", details: [("shard", .string(shard.name))])
                }
                return old
            })])
        }
        if let row = old[0] { recordChanges([RowChange(.delete, model, shard: shard.name, old: row)]) }
        identityMap.remove(key)
        return JSONObject([("deleted", .bool(true))])
    }

    /// `body`, its `not_found` turned into `moved` where the row moved (`moved(_:model:)`).
    private func orMoved<T>(_ key: IdentityKey, model: Model, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ShardError where error.code == .notFound {
            if let moved = await moved(key, model: model) { throw moved }
            throw error
        }
    }

    // MARK: - The identity map's own ops

    func expunge(_ key: IdentityKey) -> JSONObject {
        JSONObject([("expunged", .bool(identityMap.remove(key)))])
    }

    func expungeAll() -> JSONObject {
        JSONObject([("expunged", .int(Int64(identityMap.removeAll())))])
    }

    func identityKeys(model: String?) -> JSONObject {
        JSONObject([("keys", .array(identityMap.keys(model: model).map(\.responseJSON)))])
    }
}
