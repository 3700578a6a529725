import Dispatch
import ShardCore
import ShardProtocol
import ShardStore

/// Reading request arguments into model terms, and rows into objects.
extension Session {
    func shard(named name: String) throws(ShardError) -> Shard {
        guard let shard = context.shards.shard(named: name) else {
            throw ShardError(.unknownShard, "\"\(name)\" is not a shard (shards: \(configuration.shards.map(\.name).joined(separator: ", ")))",
                             details: [("shard", .string(name))])
        }
        return shard
    }

    /// The row's primary key values, from its values in the model's column order.
    func key(of row: [ShardValue], model: Model) -> [ShardValue] {
        model.primaryKeyPositions.map { row[$0] }
    }

    /// Puts a row in the identity map and returns it as a protocol object.
    func remember(_ row: [ShardValue], of model: Model, on shard: String) -> JSONValue {
        let identity = IdentityKey(model: model.name, primaryKey: key(of: row, model: model), token: shard)
        identityMap.put(identity, row)
        return Session.object(identity, row, model: model)
    }

    static func object(_ key: IdentityKey, _ row: [ShardValue], model: Model) -> JSONValue {
        var values = JSONObject()
        values.members.reserveCapacity(row.count)
        for (column, value) in zip(model.columns, row) { values.members.append((column.name, value.responseJSON)) }
        return .object(JSONObject([("key", key.responseJSON), ("values", .object(values))]))
    }

    /// The shards (tokens) under which the identity map holds `model` rows with this key.
    func tokens(of model: String, key: [ShardValue]) -> [String] {
        configuration.shards.map(\.name).filter {
            identityMap.contains(IdentityKey(model: model, primaryKey: key, token: $0))
        }
    }

    /// Runs one read statement on each shard, results in the given order, as `readEach`
    /// with `inline`, except on the shards whose reads outside the session's transaction go
    /// out together with other sessions' (PostgreSQL's pipeline, `Shard.readBatched`).
    /// - Parameter ahead: reads already started (`readAhead`), by shard name.
    func readStatements(_ shards: [Shard], ahead: [String: PendingRead] = [:],
                        _ statement: @escaping @Sendable (Shard) -> Statement) async throws -> [QueryResult] {
        let batched = shards.map { $0.dialect.batchesReads && transaction?.lease(for: $0) == nil }
        if !batched.contains(true) {
            return try await readEach(shards, inline: true) { shard, connection in try connection.run(statement(shard)) }
        }
        if shards.count == 1 {
            if let started = ahead[shards[0].name] { return [try await started.value()] }
            return [try await shards[0].readBatched(statement(shards[0]))]
        }
        let pending = shards.indices.map { index -> PendingRead? in
            guard batched[index] else { return nil }
            return ahead[shards[index].name] ?? shards[index].readSoon([statement(shards[index])])[0]
        }
        let others = shards.indices.filter { !batched[$0] }
        var results = [QueryResult?](repeating: nil, count: shards.count)
        var failure: Error?
        do {
            let read = try await readEach(others.map { shards[$0] }, inline: true) { shard, connection in try connection.run(statement(shard)) }
            for (index, result) in zip(others, read) { results[index] = result }
        } catch {
            failure = error
        }
        for (index, read) in pending.enumerated() {
            guard let read else { continue }
            do { results[index] = try await read.value() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return results.map { $0! }
    }

    /// Runs `body` on each shard, results in the given order. Shards whose reads hop to a
    /// connection's queue run concurrently.
    /// - Parameter inline: `body` only reads, and may be run again. On SQLite shards outside
    ///   the session's transaction it then runs on the session's thread, one shard after
    ///   another, within the context's `inlineReadBudget`; a shard whose statement is not
    ///   expected to fit in what is left of it (`InlineCost`), or still reading when it runs
    ///   out, goes to its queue at once, and so do the shards after a budget spent.
    func readEach<T: Sendable>(_ shards: [Shard], inline: Bool = false, _ body: @escaping @Sendable (Shard, any ShardConnection) throws -> T) async throws -> [T] {
        let deadline = inline ? DispatchTime.now().uptimeNanoseconds + context.inlineReadBudget.wholeNanoseconds : nil
        if shards.count == 1 {
            let shard = shards[0]
            return [try await Session.read(on: shard, lease: transaction?.lease(for: shard), inlineUntil: deadline) { try body(shard, $0) }]
        }
        // Leases are picked here, on the session's task. The reads that hop start first, so
        // that they run while the inline ones run here.
        let leases = shards.map { transaction?.lease(for: $0) }
        let inlined = shards.indices.map { deadline != nil && leases[$0] == nil && shards[$0].readsInline }
        var tasks: [Int: Task<T, Error>] = [:]
        func hop(_ index: Int) {
            let shard = shards[index], lease = leases[index]
            tasks[index] = Task { try await Session.read(on: shard, lease: lease) { try body(shard, $0) } }
        }
        for index in shards.indices where !inlined[index] { hop(index) }
        var results: [Int: Result<T, Error>] = [:]
        for index in shards.indices where inlined[index] {
            let shard = shards[index]
            do {
                if let value = try await shard.readInline(until: deadline!, { try body(shard, $0) }) {
                    results[index] = .success(value)
                } else {
                    hop(index)
                }
            } catch {
                results[index] = .failure(error)
            }
        }
        for (index, task) in tasks {
            do { results[index] = .success(try await task.value) } catch { results[index] = .failure(error) }
        }
        return try shards.indices.map { try results[$0]!.get() }
    }
}
