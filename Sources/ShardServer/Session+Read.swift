import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `get` (protocol.md 5.2, 8): the identity map first, then the shard in the key or
    /// every shard concurrently.
    func get(_ request: GetRequest) async throws -> JSONObject {
        let (model, key, candidates, include) = (request.model, request.primaryKey, request.shards, request.include)
        let ahead = readsOfThisGet
        readsOfThisGet = [:]
        readAhead()
        if !request.fresh {
            let known = candidates.filter { identityMap.contains(IdentityKey(model: model.name, primaryKey: key, token: $0)) }
            if known.count == 1 {
                let identity = IdentityKey(model: model.name, primaryKey: key, token: known[0])
                let row = identityMap.values(for: identity)!
                if include.isEmpty { return JSONObject([("object", Session.object(identity, row, model: model))]) }
                return JSONObject([("object", try await objects([(row, known[0])], of: model, including: include)[0])])
            }
            if known.count > 1 { throw ambiguous(model, key, known) }
        }
        let shards = try candidates.map { name throws(ShardError) in try shard(named: name) }
        let read = try await readStatements(shards, ahead: ahead) { shard in shard.pointSelects.statement(model, key) }
        let found = zip(shards, read).map { shard, result in (shard.name, result.rows.first) }
        let rows = found.compactMap { name, row in row.map { (name, $0) } }
        for (name, row) in found where row == nil {
            identityMap.remove(IdentityKey(model: model.name, primaryKey: key, token: name))
        }
        switch rows.count {
        case 0:
            if candidates.count == 1, let moved = await moved(IdentityKey(model: model.name, primaryKey: key, token: candidates[0]), model: model) {
                throw moved
            }
            return JSONObject([("object", .null)])
        case 1: return JSONObject([("object", try await objects([(rows[0].1, rows[0].0)], of: model, including: include)[0])])
        default: throw ambiguous(model, key, rows.map(\.0))
        }
    }

    private func ambiguous(_ model: Model, _ key: [ShardValue], _ shards: [String]) -> ShardError {
        let keys = shards.map { IdentityKey(model: model.name, primaryKey: key, token: $0).responseJSON }
        return ShardError(.ambiguousIdentity,
                          "\(model.name) \(key.map(\.messageText).joined(separator: ", ")) exists on several shards (\(shards.joined(separator: ", "))); give shard to choose one",
                          details: [("keys", .array(keys))])
    }

    /// `query` (protocol.md 5.3, 7, 8): routed by the execute chooser, all shards at once,
    /// merged in order, offset and limit applied once.
    func query(_ request: QueryRequest) async throws -> JSONObject {
        let (model, filter, order, limit, offset) = (request.model, request.filter, request.order, request.limit, request.offset)
        let routing = try route(model, filter, request.shards)
        let maxRows = configuration.server.maxResultRows
        // Each shard sends at most what the answer can use, and one row more than
        // max_result_rows when that bound is what stops the answer (or than the page, to
        // know whether another follows).
        let needed = request.pageSize.map { $0 + 1 } ?? min(limit ?? Int.max, maxRows + 1)
        let perShard = offset + needed
        let shards = try routing.shards.map { name throws(ShardError) in try shard(named: name) }
        let tiebreak = request.tiebreak
        let segments = try pageSegments(request, shards: routing.shards)
        let perShardRows = try await readEach(shards, inline: true) { shard, connection in
            guard let parts = segments[shard.name] else {
                return try connection.run(shard.dialect.select(model, where: filter, orderBy: order + tiebreak, limit: perShard)).rows
            }
            // In turn, each only for the rows still missing: the later ones rarely run.
            var rows: [[ShardValue]] = []
            for part in parts where rows.count < perShard {
                rows += try connection.run(shard.dialect.select(model, where: part, orderBy: order + tiebreak, limit: perShard - rows.count)).rows
            }
            return rows
        }

        // The shard's position rides along as a last column, to name each row's token.
        let tagged = perShardRows.enumerated().map { index, rows in rows.map { $0 + [.int(Int64(index))] } }
        var merged: [[ShardValue]]
        if order.isEmpty {
            merged = Array(tagged.joined().dropFirst(offset).prefix(needed))
        } else {
            let keys = order.map { key in MergeKey(column: model.position(of: key.column), descending: key.descending) }
            merged = Array(OrderedMerge(tagged, keys: keys, offset: offset, limit: needed))
        }
        var next: JSONValue?
        if let pageSize = request.pageSize {
            next = .null
            if merged.count > pageSize {
                merged.removeLast(merged.count - pageSize)
                let last = merged[pageSize - 1]
                guard case .int(let index) = last.last! else { preconditionFailure("rows carry their shard's position") }
                let values = (order + tiebreak).map { last[model.position(of: $0.column)] }
                next = .string(PageCursor(fingerprint: request.fingerprint, shard: shards[Int(index)].name, values: values).encoded)
            }
        } else if merged.count > maxRows {
            throw ShardError(.resultTooLarge, "the query matches more than \(maxRows) rows (max_result_rows); give a limit of at most \(maxRows), use page_size to page through them, or narrow the where")
        }
        let found = merged.map { row -> (row: [ShardValue], shard: String) in
            guard case .int(let index) = row.last! else { return (row, "") }
            return (Array(row.dropLast()), shards[Int(index)].name)
        }
        var answer = JSONObject([("objects", .array(try await objects(found, of: model, including: request.include))), ("shards", .array(routing.shards.map(JSONValue.string)))])
        if let next { answer.members.append(("next", next)) }
        return answer
    }

    /// Each routed shard's `where`s for a page after a cursor (`PageCursor.segments`, each
    /// with the request's `where`), keyed by shard; empty without a cursor.
    private func pageSegments(_ request: QueryRequest, shards routed: [String]) throws(ShardError) -> [String: [Expression]] {
        guard let after = request.after else { return [:] }
        let names = context.shardOrder.names
        guard let cursorIndex = names.firstIndex(of: after.shard) else {
            throw ShardError(.badRequest, "after: the cursor's shard \(after.shard) is no longer configured; start again from the first page")
        }
        var segments: [String: [Expression]] = [:]
        for name in routed {
            let parts = after.segments(shardIndex: names.firstIndex(of: name)!, cursorIndex: cursorIndex,
                                       order: request.order, tiebreak: request.tiebreak)
            segments[name] = parts.map { part in request.filter.map { .and([$0, part]) } ?? part }
        }
        return segments
    }

    /// `count` (protocol.md 8): per-shard counts, summed.
    func count(_ request: FilterRequest) async throws -> JSONObject {
        let (model, filter) = (request.model, request.filter)
        let routing = try route(model, filter, request.shards)
        let shards = try routing.shards.map { name throws(ShardError) in try shard(named: name) }
        // A bare count(*) is one step of SQLite's machine, which its progress handler cannot
        // stop at the inline budget, and it walks a whole index: it goes to the queues.
        let counts = try await readEach(shards, inline: filter != nil) { shard, connection -> Int64 in
            guard case .int(let n) = try connection.run(shard.dialect.count(model, where: filter)).rows.first?.first else { return 0 }
            return n
        }
        let perShard = JSONObject(zip(routing.shards, counts).map { ($0, .int($1)) })
        return JSONObject([("count", .int(counts.reduce(0, +))), ("per_shard", .object(perShard)),
                           ("shards", .array(routing.shards.map(JSONValue.string)))])
    }

    /// The execute chooser, with child models routed through parents this session knows.
    func route(_ model: Model, _ filter: Expression?, _ explicit: [String]?) throws(ShardError) -> Routing {
        try routed.executeChooser.route(model: model, where: filter, explicitShards: explicit) { parentModel, keys in
            var shards: Set<String> = []
            for key in keys {
                let known = tokens(of: parentModel, key: [key])
                if known.isEmpty { return nil }
                shards.formUnion(known)
            }
            return Array(shards)
        }
    }

    /// `refresh` (protocol.md 8): the row read again from the shard in its key.
    /// With `for_update`, the read runs as a write of the session's transaction, so that
    /// the row stays locked until it commits or rolls back (SQLAlchemy's
    /// `refresh(obj, with_for_update=True)`).
    func refresh(_ request: RefreshRequest) async throws -> JSONObject {
        let row = try await currentRow(request.key, model: request.model, forUpdate: request.forUpdate)
        return JSONObject([("object", remember(row, of: request.model, on: request.key.token))])
    }

    /// The row of `key` as its shard has it now; `not_found` (and out of the map) when gone.
    func currentRow(_ key: IdentityKey, model: Model, forUpdate: Bool = false) async throws -> [ShardValue] {
        let shard = try shard(named: key.token)
        let found: [ShardValue]?
        if forUpdate {
            let statement = shard.dialect.selectForUpdate(model, key.primaryKey)
            found = try await writeEach([(shard, { @Sendable connection in try connection.run(statement).rows.first })])[0]
        } else {
            let statement = shard.pointSelects.statement(model, key.primaryKey)
            found = try await read(on: shard, { try $0.run(statement).rows.first })
        }
        guard let row = found else {
            identityMap.remove(key)
            if let moved = await moved(key, model: model) { throw moved }
            throw ShardError(.notFound, "\(key.messageText) no longer exists on \(key.token)", details: [("shard", .string(key.token))])
        }
        return row
    }

    /// `load` (protocol.md 5.4, 8): a relationship of one object, read on that object's shard only.
    func load(_ request: LoadRequest) async throws -> JSONObject {
        let (key, model, relationship, other) = (request.key, request.model, request.relationship, request.other)
        let name = relationship.name
        let row: [ShardValue]
        if let known = identityMap.values(for: key) {
            row = known
        } else {
            row = try await currentRow(key, model: model)
        }
        let shard = try shard(named: key.token)
        switch relationship.kind {
        case .toOne:
            let value = row[model.position(of: relationship.foreignKey)]
            guard value != .null else { return JSONObject([("object", .null)]) }
            let statement = shard.pointSelects.statement(other, [value])
            let related = try await read(on: shard) { try $0.run(statement).rows.first }
            return JSONObject([("object", related.map { remember($0, of: other, on: key.token) } ?? .null)])
        case .toMany:
            let maxRows = configuration.server.maxResultRows
            let statement = shard.dialect.select(other, where: .compare(.equal, column: relationship.foreignKey, key.primaryKey[0]),
                                                 orderBy: other.primaryKey.map { SortKey(column: $0) }, limit: maxRows + 1)
            let rows = try await read(on: shard) { try $0.run(statement).rows }
            if rows.count > maxRows {
                throw ShardError(.resultTooLarge, "\(key.messageText) has more than \(maxRows) \(name) (max_result_rows); use query with a where and a limit")
            }
            return JSONObject([("objects", .array(rows.map { remember($0, of: other, on: key.token) }))])
        }
    }
}
