import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `any` / `has` (protocol.md 7): random nested conditions on related rows answered by four
/// mixed shards equal the same requests on one SQLite database, and the execute chooser asks
/// only the shards they imply.
@Suite struct RelatedConditionTests {
    /// Places mapped by region to `shards` (n, e, s, w), their readings with them.
    static func models(_ shards: [String]) -> String {
        """

        [models.Place]
        table = "places"
        id = "client"
        shard_by = { column = "region", map = { "n" = "\(shards[0])", "e" = "\(shards[1])", "s" = "\(shards[2])", "w" = "\(shards[3])" } }
        [models.Place.columns]
        id = "int"
        region = { type = "text", nullable = false }
        name = "text"
        pop = "int"
        [models.Place.relationships.readings]
        model = "Reading"
        foreign_key = "place_id"

        [models.Reading]
        table = "readings"
        id = "client"
        shard_by = { parent = "Place", via = "place_id" }
        [models.Reading.columns]
        id = "int"
        place_id = { type = "int", nullable = false, index = true }
        temp = "real"
        note = "text"
        [models.Reading.relationships.place]
        model = "Place"
        foreign_key = "place_id"
        """
    }

    static let names = ["Tokyo", "tokyo", "Zürich", "Oslo", "Lima", "日本", "a_b", ""]

    @Test func randomRelatedConditionsAgree() async throws {
        let sharded = try Daemon(config: MixedShards.config + Self.models(["one", "two", "three", "four"]),
                                 environment: try await MixedShards.environment())
        let single = try Daemon(config: "[shards.all]\nurl = \"sqlite:data/all.db\"\n" + Self.models(["all", "all", "all", "all"]))
        let a = try sharded.client(), b = try single.client()

        var random = SplitMix64(seed: 18)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        func chance(_ n: UInt64) -> Bool { random.next() % n == 0 }
        var places: [JSONValue] = [], readings: [JSONValue] = []
        for id in 1...80 {
            places.append(.object(JSONObject([
                ("id", .int(Int64(id))), ("region", .string(pick(["n", "e", "s", "w"]))),
                ("name", chance(8) ? .null : .string(pick(Self.names))), ("pop", chance(6) ? .null : .int(Int64(random.next() % 100))),
            ])))
        }
        for id in 1...500 where !chance(9) {
            // Some places get no readings at all, so that `any` without a condition matters.
            readings.append(.object(JSONObject([
                ("id", .int(Int64(id))), ("place_id", .int(Int64(1 + random.next() % 70))),
                ("temp", chance(7) ? .null : .double(Double(random.next() % 800) / 8 - 20)),
                ("note", chance(5) ? .null : .string(pick(Self.names))),
            ])))
        }
        for client in [a, b] {
            for (model, rows) in [("Place", places), ("Reading", readings)] {
                let add = JSONValue.object(JSONObject([("op", .string("add")), ("model", .string(model)), ("rows", .array(rows))])).serialized
                #expect(try client.request(add)["ok"] == .bool(true))
            }
            #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        }

        func value(_ column: String) -> JSONValue {
            switch column {
            case "id", "place_id": .int(Int64(random.next() % 90))
            case "pop": .int(Int64(random.next() % 110))
            case "temp": .double(Double(random.next() % 800) / 8 - 20)
            case "region": .string(pick(["n", "e", "s", "w", "x"]))
            default: .string(pick(Self.names))
            }
        }
        func condition(_ model: String, _ depth: Int) -> JSONValue {
            let columns = model == "Place" ? ["id", "region", "name", "pop"] : ["id", "place_id", "temp", "note"]
            let related = model == "Place" ? ("any", "readings", "Reading") : ("has", "place", "Place")
            let column = pick(columns)
            switch random.next() % (depth > 2 ? 4 : 8) {
            case 0: return .array([.string(pick(["=", "!=", "<", ">="])), .string(column), value(column)])
            case 1: return .array([.string("in"), .string(column), .array((0..<Int(random.next() % 3)).map { _ in value(column) })])
            case 2: return .array([.string(pick(["is_null", "not_null"])), .string(column)])
            case 3, 4, 5:
                // The related model's condition, or none (`["any", "readings"]`).
                if chance(4) { return .array([.string(related.0), .string(related.1)]) }
                return .array([.string(related.0), .string(related.1), condition(related.2, depth + 1)])
            case 6: return .array([.string(pick(["and", "or"]))] + (0..<Int(1 + random.next() % 3)).map { _ in condition(model, depth + 1) })
            default: return .array([.string("not"), condition(model, depth + 1)])
            }
        }

        for round in 0..<200 {
            let model = pick(["Place", "Reading"])
            var request = JSONObject([("model", .string(model)), ("where", condition(model, 0))])
            switch round % 3 {
            case 0:
                request.members.insert(("op", .string("query")), at: 0)
                let order = model == "Place" ? pick(["name", "-pop", "region"]) : pick(["-temp", "note", "place_id"])
                request.members.append(("order_by", .array([.string(order), .string("id")])))
                request.members.append(("limit", .int(Int64(random.next() % 40))))
            case 1:
                request.members.insert(("op", .string("count")), at: 0)
            default:
                request.members.insert(("op", .string("aggregate")), at: 0)
                let column = model == "Place" ? "pop" : "temp"
                request.members.append(("select", .array([.array([.string("count"), .string("*")]), .array([.string("sum"), .string(column)]),
                                                          .array([.string("avg"), .string(column)])])))
            }
            let line = JSONValue.object(request).serialized
            let left = try a.request(line), right = try b.request(line)
            #expect(left["ok"] == .bool(true) && right["ok"] == .bool(true), "\(line)\n\(left)\n\(right)")
            #expect(ShardedEqualsSingleTests.comparable(left) == ShardedEqualsSingleTests.comparable(right), "\(line)")
        }

        // Narrowing: the shards each answer names, and the statements each shard ran.
        let narrowed: [(String, [String])] = [
            (#"{"op":"count","model":"Reading","where":["has","place",["=","region","e"]]}"#, ["two"]),
            (#"{"op":"query","model":"Reading","where":["and",["has","place",["in","region",["s","n"]]],[">","temp",10.0]]}"#, ["one", "three"]),
            (#"{"op":"count","model":"Place","where":["any","readings",["has","place",["=","region","w"]]]}"#, ["four"]),
            (#"{"op":"count","model":"Place","where":["and",["=","region","n"],["any","readings",["has","place",["=","region","s"]]]]}"#, []),
            (#"{"op":"count","model":"Reading","where":["or",["has","place",["=","region","n"]],["has","place",["=","region","w"]]]}"#, ["one", "four"]),
            (#"{"op":"count","model":"Reading","where":["or",["has","place",["=","region","n"]],[">","temp",0.0]]}"#, ["one", "two", "three", "four"]),
            (#"{"op":"count","model":"Place","where":["not",["any","readings",["has","place",["=","region","w"]]]]}"#, ["one", "two", "three", "four"]),
        ]
        for (line, shards) in narrowed {
            let before = try Self.statements(a)
            let answer = try a.request(line)
            #expect(answer["ok"] == .bool(true), "\(line): \(answer)")
            #expect(answer["shards"] == .array(shards.map(JSONValue.string)), "\(line): \(answer)")
            let after = try Self.statements(a)
            let ran = Set(after.keys.filter { after[$0] != before[$0] })
            #expect(ran == Set(shards), "\(line): statements ran on \(ran.sorted())")
        }

        // The mistakes a user makes get the error that says what to do.
        let mistakes: [(String, String)] = [
            (#"{"op":"count","model":"Place","where":["has","readings"]}"#, "bad_request"),
            (#"{"op":"count","model":"Reading","where":["any","place"]}"#, "bad_request"),
            (#"{"op":"count","model":"Place","where":["any","reports"]}"#, "unknown_relationship"),
            (#"{"op":"count","model":"Place","where":["any","readings",["=","region","n"]]}"#, "unknown_column"),
            (#"{"op":"count","model":"Place","where":["any",7]}"#, "bad_request"),
            (#"{"op":"count","model":"Place","where":["any","readings",{},{}]}"#, "bad_request"),
        ]
        for (line, code) in mistakes {
            let answer = try a.request(line)
            #expect(answer["error"]?["code"] == .string(code), "\(line): \(answer)")
        }
        #expect(sharded.stop() == 0)
        #expect(single.stop() == 0)
    }

    /// `stats`' statements per shard.
    static func statements(_ client: LineClient) throws -> [String: JSONValue] {
        guard case .object(let perShard)? = try client.request(#"{"op":"stats"}"#)["per_shard"] else { return [:] }
        return Dictionary(uniqueKeysWithValues: perShard.members.map { ($0.key, $0.value["statements"] ?? .null) })
    }
}
