import ShardCore
import ShardProtocol
import ShardStore

extension Session {
    /// `aggregate` (protocol.md 8): partials per shard in SQL, combined exactly, then
    /// `having`, `order_by` and `limit` over the combined rows.
    func aggregate(_ request: AggregateRequest) async throws -> JSONObject {
        let (model, plan, filter, having, order, limit) = (request.model, request.plan, request.filter, request.having, request.order, request.limit)
        let routing = try route(model, filter, request.shards)
        let shards = try routing.shards.map { name throws(ShardError) in try shard(named: name) }
        let maxRows = configuration.server.maxResultRows
        // Without a where or groups it reads whole tables: never short (see `count`).
        let perShard = try await readEach(shards, inline: filter != nil || !plan.groupBy.isEmpty) { shard, connection in
            try connection.run(shard.dialect.aggregateStatement(plan, where: filter, limit: maxRows + 1)).rows
        }
        // The combine holds at most max_result_rows groups per shard.
        if perShard.contains(where: { $0.count > maxRows }) {
            throw ShardError(.resultTooLarge, "a shard has more than \(maxRows) groups (max_result_rows); narrow the where or group by fewer values")
        }
        var rows = try plan.combine(perShard)
        let names = plan.resultColumns.map(\.name)
        if let having {
            rows = rows.filter { row in having.evaluate(Dictionary(uniqueKeysWithValues: zip(names, row))) == true }
        }
        // Ordered by order_by, then by the group columns, so that the answer is the same
        // whatever order the shards answered in.
        let keys = order.map { key in (names.firstIndex(of: key.column)!, key.descending) } + plan.groupBy.indices.map { ($0, false) }
        rows.sort { a, b in
            for (index, descending) in keys where a[index] != b[index] {
                return descending ? b[index] < a[index] : a[index] < b[index]
            }
            return false
        }
        if let limit { rows = Array(rows.prefix(limit)) }
        if rows.count > maxRows {
            throw ShardError(.resultTooLarge, "the aggregate has more than \(maxRows) rows (max_result_rows); give a limit of at most \(maxRows)")
        }
        let objects = rows.map { row in JSONValue.object(JSONObject(zip(names, row).map { ($0, $1.responseJSON) })) }
        return JSONObject([("rows", .array(objects)), ("shards", .array(routing.shards.map(JSONValue.string)))])
    }
}
