import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// A property test: random requests answered by four mixed shards equal the same requests
/// answered by one SQLite database holding all the rows.
@Suite struct ShardedEqualsSingleTests {
    static let model = """

        [models.Item]
        id = "client"
        shard_by = { column = "id", hash = true }
        [models.Item.columns]
        id = "int"
        grp = "int"
        val = "int"
        x = "real"
        label = "text"
        flag = "bool"
        at = "timestamp"
        """

    static let labels = ["apple", "Apple", "apricot", "b", "B", "é", "e\u{301}", "zeta", "Zeta", "日本", "😀", "a%b", "a_b", ""]

    @Test func randomRequestsAgree() async throws {
        let sharded = try Daemon(config: MixedShards.config + Self.model, environment: try await MixedShards.environment())
        let single = try Daemon(config: "[shards.all]\nurl = \"sqlite:data/all.db\"\n" + Self.model)
        let a = try sharded.client(), b = try single.client()

        var random = SplitMix64(seed: 7)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func chance(_ n: UInt64) -> Bool { random.next() % n == 0 }
        var rows: [JSONValue] = []
        for id in 1...400 {
            rows.append(.object(JSONObject([
                ("id", .int(Int64(id))), ("grp", .int(Int64(random.next() % 7))),
                ("val", chance(8) ? .null : .int(Int64(random.next() % 200) - 100)),
                ("x", chance(8) ? .null : .double(Double(random.next() % 1000) / 16)),
                ("label", chance(9) ? .null : .string(pick(Self.labels))),
                ("flag", chance(6) ? .null : .bool(chance(2))),
                ("at", .string(Timestamp(microseconds: Int64(random.next() % 4_000_000_000_000_000) - 2_000_000_000_000_000).description)),
            ])))
        }
        let add = JSONValue.object(JSONObject([("op", .string("add")), ("model", .string("Item")), ("rows", .array(rows))])).serialized
        for client in [a, b] {
            #expect(try client.request(add)["ok"] == .bool(true))
            #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        }

        func value(_ column: String) -> JSONValue {
            switch column {
            case "id": .int(Int64(random.next() % 420))
            case "grp": .int(Int64(random.next() % 8))
            case "val": .int(Int64(random.next() % 220) - 110)
            case "x": .double(Double(random.next() % 1000) / 16)
            case "label": .string(pick(Self.labels))
            case "flag": .bool(chance(2))
            default: .string(Timestamp(microseconds: Int64(random.next() % 4_000_000_000_000_000) - 2_000_000_000_000_000).description)
            }
        }
        func condition(_ depth: Int) -> JSONValue {
            let column = pick(["id", "grp", "val", "x", "label", "flag", "at"])
            switch random.next() % (depth > 2 ? 7 : 10) {
            case 0: return .array([.string(pick(["=", "!=", "<", "<=", ">", ">="])), .string(column), value(column)])
            case 1: return .array([.string("in"), .string(column), .array((0..<Int(random.next() % 4)).map { _ in value(column) })])
            case 2: return .array([.string("not_in"), .string(column), .array((0..<Int(1 + random.next() % 3)).map { _ in value(column) })])
            case 3: return .array([.string("between"), .string(column), value(column), value(column)])
            case 4: return .array([.string(pick(["is_null", "not_null"])), .string(column)])
            case 5: return .array([.string("like"), .string("label"), .string(pick(["a%", "%e%", "_", "%b", "A%", "%\u{301}", "a\\%b", "%"]))])
            case 6: return .array([.string("starts_with"), .string("label"), .string(pick(["a", "A", "ap", "e", ""]))])
            case 7, 8: return .array([.string(pick(["and", "or"]))] + (0..<Int(1 + random.next() % 3)).map { _ in condition(depth + 1) })
            default: return .array([.string("not"), condition(depth + 1)])
            }
        }

        var compared = 0
        for round in 0..<300 {
            var request = JSONObject([("model", .string("Item"))])
            if !chance(4) { request.members.append(("where", condition(0))) }
            switch round % 3 {
            case 0:
                request.members.insert(("op", .string("query")), at: 0)
                var order = (0..<Int(random.next() % 3)).map { _ in (chance(2) ? "-" : "") + pick(["grp", "val", "x", "label", "flag", "at"]) }
                order = order.reduce(into: [String]()) { kept, key in
                    if !kept.contains(where: { $0.trimmingCharacters(in: ["-"]) == key.trimmingCharacters(in: ["-"]) }) { kept.append(key) }
                }
                request.members.append(("order_by", .array((order + ["id"]).map(JSONValue.string))))
                request.members.append(("limit", .int(Int64(random.next() % 60))))
                if chance(2) { request.members.append(("offset", .int(Int64(random.next() % 50)))) }
            case 1:
                request.members.insert(("op", .string("count")), at: 0)
            default:
                request.members.insert(("op", .string("aggregate")), at: 0)
                let items: [JSONValue] = [
                    .array([.string("count"), .string("*")]), .array([.string("sum"), .string("val")]), .array([.string("avg"), .string("x")]),
                    .array([.string("min"), .string("label")]), .array([.string("max"), .string("at")]), .array([.string("count"), .string("flag")]),
                ]
                request.members.append(("select", .array(items)))
                if chance(2) {
                    request.members.append(("group_by", .array([.string(pick(["grp", "flag", "label"]))])))
                    if chance(2) { request.members.append(("having", .array([.string(">"), .string("count"), .int(Int64(random.next() % 30))]))) }
                    request.members.append(("order_by", .array([.string(pick(["-count", "sum_val", "avg_x", "-min_label"]))])))
                    if chance(2) { request.members.append(("limit", .int(Int64(random.next() % 10)))) }
                }
            }
            let line = JSONValue.object(request).serialized
            let left = try a.request(line), right = try b.request(line)
            #expect(left["ok"] == .bool(true) && right["ok"] == .bool(true), "\(line)\n\(left)\n\(right)")
            #expect(Self.comparable(left) == Self.comparable(right), "\(line)")
            compared += 1
        }
        #expect(compared == 300)
        #expect(sharded.stop() == 0)
        #expect(single.stop() == 0)
    }

    /// The answer without what legitimately differs between the layouts: identity tokens,
    /// the shards asked, per-shard counts; doubles rounded (sums add in another order).
    static func comparable(_ answer: JSONValue) -> String {
        func clean(_ value: JSONValue) -> JSONValue {
            switch value {
            case .double(let d): return .string(String(format: "%.9g", d))
            case .array(let items): return .array(items.map(clean))
            case .object(let object):
                return .object(JSONObject(object.members.filter { !["key", "shards", "per_shard"].contains($0.key) }.map { ($0.key, clean($0.value)) }))
            default: return value
            }
        }
        return clean(answer).serialized
    }
}
