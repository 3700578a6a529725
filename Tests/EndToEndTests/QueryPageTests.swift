import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Page cursors (protocol.md 8.1) on the mixed layout: the pages of a query, followed through
/// `next`, are the unlimited query's rows, each once, in order, for any `order_by`.
@Suite struct QueryPageTests {
    @Test func pagesEqualTheUnlimitedQuery() async throws {
        let daemon = try Daemon(config: MixedShards.config + ShardedEqualsSingleTests.model, environment: try await MixedShards.environment())
        let client = try daemon.client()
        var random = SplitMix64(seed: 88)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func chance(_ n: UInt64) -> Bool { random.next() % n == 0 }
        var rows: [JSONValue] = []
        for id in 1...2000 {
            // Few distinct values, so that ties span shards.
            rows.append(.object(JSONObject([
                ("id", .int(Int64(id))), ("grp", .int(Int64(random.next() % 4))),
                ("val", chance(6) ? .null : .int(Int64(random.next() % 9) - 4)),
                ("x", chance(6) ? .null : .double(Double(random.next() % 7) / 4)),
                ("label", chance(7) ? .null : .string(pick(ShardedEqualsSingleTests.labels))),
                ("flag", chance(5) ? .null : .bool(chance(2))),
                ("at", .string(Timestamp(microseconds: Int64(random.next() % 5) * 1_000_000).description)),
            ])))
        }
        let add = JSONValue.object(JSONObject([("op", .string("add")), ("model", .string("Item")), ("rows", .array(rows))])).serialized
        #expect(try client.request(add)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        for round in 0..<14 {
            var order: [String] = []
            for _ in 0..<Int(random.next() % 4) {
                let column = pick(["grp", "val", "x", "label", "flag", "at", "id"])
                if !order.contains(where: { $0.hasSuffix(column) }) { order.append((chance(2) ? "-" : "") + column) }
            }
            var base = JSONObject([("op", .string("query")), ("model", .string("Item"))])
            if !order.isEmpty { base.members.append(("order_by", .array(order.map(JSONValue.string)))) }
            if round % 3 == 1 { base.members.append(("where", .array([.string(">="), .string("grp"), .int(1)]))) }
            let all = try client.request(JSONValue.object(base).serialized)
            guard case .array(let expected)? = all["objects"] else { Issue.record("\(all)"); continue }

            let size = [1, 7, 50, 333][round % 4]
            var seen: [JSONValue] = []
            var after: JSONValue = .null
            var pages = 0
            repeat {
                var request = base
                request.members.append(("page_size", .int(Int64(size))))
                if after != .null { request.members.append(("after", after)) }
                let page = try client.request(JSONValue.object(request).serialized)
                guard case .array(let objects)? = page["objects"], let next = page["next"] else { Issue.record("\(order): \(page)"); break }
                #expect(objects.count <= size)
                seen += objects
                after = next
                pages += 1
            } while after != .null && pages <= 2000
            #expect(seen.map(\.serialized) == expected.map(\.serialized), "order_by \(order), page_size \(size)")
            #expect(seen.count == (round % 3 == 1 ? expected.count : 2000))
        }

        // A cursor works only for its own query; malformed ones and offset are refused.
        let first = try client.request(#"{"op":"query","model":"Item","order_by":["label"],"page_size":5}"#)
        guard case .string(let cursor)? = first["next"] else { Issue.record("\(first)"); return }
        let refusals = [
            #"{"op":"query","model":"Item","order_by":["-label"],"page_size":5,"after":"\#(cursor)"}"#,
            #"{"op":"query","model":"Item","order_by":["label"],"where":{"grp":1},"page_size":5,"after":"\#(cursor)"}"#,
            #"{"op":"query","model":"Item","order_by":["label"],"shard":"one","page_size":5,"after":"\#(cursor)"}"#,
            #"{"op":"query","model":"Item","order_by":["label"],"page_size":5,"after":"bm90IGEgY3Vyc29y"}"#,
            #"{"op":"query","model":"Item","order_by":["label"],"page_size":5,"after":"\#(cursor)","offset":3}"#,
            #"{"op":"query","model":"Item","order_by":["label"],"after":"\#(cursor)"}"#,
            #"{"op":"query","model":"Item","page_size":0}"#,
            #"{"op":"query","model":"Item","page_size":5,"limit":5}"#,
        ]
        for line in refusals {
            let answer = try client.request(line)
            #expect(answer["error"]?["code"] == .string("bad_request"), "\(line): \(answer)")
        }
        let again = try client.request(#"{"op":"query","model":"Item","order_by":["label"],"page_size":5,"after":"\#(cursor)"}"#)
        #expect(again["ok"] == .bool(true), "\(again)")
        #expect(daemon.stop() == 0)
    }
}
