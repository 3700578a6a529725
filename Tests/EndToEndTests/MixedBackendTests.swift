import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Cross-shard reads over two SQLite and two PostgreSQL shards: one order whatever the mix
/// (protocol.md 7), offset and limit applied once, globally.
@Suite struct MixedBackendTests {
    static let labels = ["apple", "Apple", "APPLE", "banana", "b", "", "é", "e\u{301}", "😀", "zeta", "Zeta", "ß", "日本", "a%b", "a_b", "100", "9"]

    @Test func orderedQueriesMergeToOneOrderOnMixedShards() async throws {
        let config = MixedShards.config + """
            [models.Item]
            id = "client"
            shard_by = { column = "id", hash = true }
            [models.Item.columns]
            id = "int"
            label = "text"
            score = "real"
            at = "timestamp"
            """
        let daemon = try Daemon(config: config, environment: try await MixedShards.environment())
        let client = try daemon.client()
        #expect(try client.request(#"{"op":"hello"}"#)["shards"] == .array(["one", "two", "three", "four"].map(JSONValue.string)))

        // 150 rows with ties, nulls and awkward text, placed by hash over all four shards.
        var generator = SplitMix64(seed: 2026)
        var rows: [JSONValue] = []
        for id in 1...150 {
            let label: JSONValue = generator.next() % 7 == 0 ? .null : .string(Self.labels[Int(generator.next() % UInt64(Self.labels.count))])
            let score: JSONValue = generator.next() % 5 == 0 ? .null : .double(Double(generator.next() % 20) / 4)
            let micros = Int64(generator.next() % 2_000_000_000_000_000) - 1_000_000_000_000_000
            rows.append(.object(JSONObject([("id", .int(Int64(id))), ("label", label), ("score", score),
                                            ("at", .string(Timestamp(microseconds: micros).description))])))
        }
        let add = JSONValue.object(JSONObject([("op", .string("add")), ("model", .string("Item")), ("rows", .array(rows))]))
        let added = try client.request(add.serialized)
        guard case .array(let objects)? = added["objects"] else { Issue.record("\(added)"); return }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        // The reference: every row with its shard, from the add's answer.
        let order = ["one", "two", "three", "four"]
        struct Row { var id: Int64; var shard: Int; var values: [String: ShardValue] }
        let columns = ["label": ColumnType.text, "score": .real, "at": .timestamp]
        let reference: [Row] = objects.map { object in
            guard case .array(let key)? = object["key"], case .string(let token) = key[2], case .int(let id)? = object["values"]?["id"] else { fatalError("\(object)") }
            var values: [String: ShardValue] = [:]
            for (name, type) in columns {
                values[name] = try! ShardValue(json: object["values"]![name]!, for: Column(name: name, type: type))
            }
            return Row(id: id, shard: order.firstIndex(of: token)!, values: values)
        }
        #expect(Set(reference.map(\.shard)).count == 4, "the hash spreads the rows over every shard")

        for (orderBy, offset, limit) in [(["label"], 0, 200), (["-label"], 0, 200), (["score", "-at"], 10, 25), (["-score", "label"], 3, 7), (["at"], 140, 20)] {
            let request = JSONValue.object(JSONObject([
                ("op", .string("query")), ("model", .string("Item")), ("order_by", .array(orderBy.map(JSONValue.string))),
                ("offset", .int(Int64(offset))), ("limit", .int(Int64(limit))),
            ]))
            let answer = try client.request(request.serialized)
            guard case .array(let got)? = answer["objects"] else { Issue.record("\(answer)"); continue }
            // The one order: by the keys (null first ascending, last descending, text by
            // UTF-8 bytes), ties by shard order, then by primary key within a shard.
            let expected = reference.sorted { a, b in
                for key in orderBy {
                    let descending = key.hasPrefix("-")
                    let column = descending ? String(key.dropFirst()) : key
                    let (x, y) = (a.values[column]!, b.values[column]!)
                    if x == y { continue }
                    return descending ? y < x : x < y
                }
                return (a.shard, a.id) < (b.shard, b.id)
            }.dropFirst(offset).prefix(limit).map(\.id)
            let ids = got.map { object -> Int64 in
                guard case .int(let id)? = object["values"]?["id"] else { return -1 }
                return id
            }
            #expect(ids == Array(expected), "order_by \(orderBy) offset \(offset) limit \(limit)")
        }
        #expect(daemon.stop() == 0)
    }
}
