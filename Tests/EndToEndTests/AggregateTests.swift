import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `aggregate` over two SQLite and two PostgreSQL shards, against references computed here
/// from all the rows.
@Suite struct AggregateTests {
    static let config = MixedShards.config + """
        [models.Item]
        id = "client"
        shard_by = { column = "region", map = { "a" = "one", "b" = "two", "c" = "three", "d" = "four" } }
        [models.Item.columns]
        id = "int"
        region = { type = "text", nullable = false }
        grp = "int"
        val = "int"
        x = "real"
        label = "text"
        flag = "bool"
        """

    struct Row { var id: Int64; var region: String; var grp: Int64; var val: Int64?; var x: Double?; var label: String?; var flag: Bool? }

    static func start() async throws -> (Daemon, LineClient, [Row]) {
        let daemon = try Daemon(config: config, environment: try await MixedShards.environment())
        let client = try daemon.client()
        // Shards hold different numbers of rows, so an average of averages is wrong.
        var generator = SplitMix64(seed: 44)
        let labels = ["apple", "Apple", "é", "e\u{301}", "Zebra", "zebra", "😀", "日本", ""]
        var rows: [Row] = []
        for (region, count) in [("a", 40), ("b", 7), ("c", 23), ("d", 3)] {
            for _ in 0..<count {
                let id = Int64(rows.count + 1)
                rows.append(Row(
                    id: id, region: region, grp: Int64(generator.next() % 6),
                    val: generator.next() % 9 == 0 ? nil : Int64(generator.next() % 1000) - 300,
                    x: generator.next() % 7 == 0 ? nil : Double(generator.next() % 10_000) / 8,
                    label: generator.next() % 8 == 0 ? nil : labels[Int(generator.next() % UInt64(labels.count))],
                    flag: generator.next() % 5 == 0 ? nil : generator.next() % 2 == 0))
            }
        }
        let json = rows.map { row in
            JSONValue.object(JSONObject([
                ("id", .int(row.id)), ("region", .string(row.region)), ("grp", .int(row.grp)),
                ("val", row.val.map(JSONValue.int) ?? .null), ("x", row.x.map(JSONValue.double) ?? .null),
                ("label", row.label.map(JSONValue.string) ?? .null), ("flag", row.flag.map(JSONValue.bool) ?? .null),
            ]))
        }
        let add = JSONValue.object(JSONObject([("op", .string("add")), ("model", .string("Item")), ("rows", .array(json))]))
        #expect(try client.request(add.serialized)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        return (daemon, client, rows)
    }

    @Test func avgIsTheAverageOfAllRowsNotOfShardAverages() async throws {
        let (daemon, client, rows) = try await Self.start()
        let answer = try client.request(#"{"op":"aggregate","model":"Item","select":[["avg","x"],["count","*"],["count","x"],["sum","val"],["min","label"],["max","label"],["min","flag"],["max","flag"]]}"#)
        guard case .array(let result)? = answer["rows"], result.count == 1, case .double(let avg)? = result[0]["avg_x"] else {
            Issue.record("\(answer)"); return
        }
        let xs = rows.compactMap(\.x)
        let overall = xs.reduce(0, +) / Double(xs.count)
        #expect(abs(avg - overall) < 1e-9)
        let perShard = Dictionary(grouping: rows, by: \.region).values.map { group -> Double in
            let values = group.compactMap(\.x)
            return values.reduce(0, +) / Double(values.count)
        }
        #expect(abs(perShard.reduce(0, +) / Double(perShard.count) - overall) > 1e-6, "the test data must tell the two apart")
        #expect(result[0]["count"] == .int(Int64(rows.count)))
        #expect(result[0]["count_x"] == .int(Int64(xs.count)))
        #expect(result[0]["sum_val"] == .int(rows.compactMap(\.val).reduce(0, +)))
        // Text min/max by UTF-8 bytes, the same on SQLite and PostgreSQL shards.
        let labels = rows.compactMap(\.label).map(ShardValue.text)
        #expect(result[0]["min_label"] == labels.min()!.json)
        #expect(result[0]["max_label"] == labels.max()!.json)
        #expect(result[0]["min_flag"] == .bool(false))
        #expect(result[0]["max_flag"] == .bool(true))
        #expect(answer["shards"] == .array(["one", "two", "three", "four"].map(JSONValue.string)))
        #expect(daemon.stop() == 0)
    }

    @Test func groupByHavingOrderByLimitEqualTheReference() async throws {
        let (daemon, client, rows) = try await Self.start()
        let answer = try client.request(#"{"op":"aggregate","model":"Item","select":[["sum","val","total"],["avg","val"],["count","*"],["max","label","top"]],"where":["!=","region","d"],"group_by":["grp"],"having":[">","count",5],"order_by":["-total"],"limit":4}"#)
        guard case .array(let result)? = answer["rows"] else { Issue.record("\(answer)"); return }
        #expect(answer["shards"] == .array(["one", "two", "three", "four"].map(JSONValue.string)))
        struct Group { var grp: Int64; var total: Int64?; var avg: Double?; var count: Int64; var top: ShardValue }
        let groups = Dictionary(grouping: rows.filter { $0.region != "d" }, by: \.grp).map { grp, members -> Group in
            let vals = members.compactMap(\.val)
            return Group(grp: grp, total: vals.isEmpty ? nil : vals.reduce(0, +), avg: vals.isEmpty ? nil : Double(vals.reduce(0, +)) / Double(vals.count),
                         count: Int64(members.count), top: members.compactMap(\.label).map(ShardValue.text).max() ?? .null)
        }.filter { $0.count > 5 }.sorted { a, b in
            let (x, y) = (a.total.map(ShardValue.int) ?? .null, b.total.map(ShardValue.int) ?? .null)
            return x == y ? a.grp < b.grp : y < x
        }.prefix(4)
        #expect(result.count == groups.count)
        for (got, want) in zip(result, groups) {
            #expect(got["grp"] == .int(want.grp))
            #expect(got["total"] == (want.total.map(JSONValue.int) ?? .null))
            #expect(got["count"] == .int(want.count))
            #expect(got["top"] == want.top.json)
            if case .double(let avg)? = got["avg_val"], let expected = want.avg { #expect(abs(avg - expected) < 1e-9) } else { #expect(want.avg == nil) }
        }
        // Narrowed like query.
        let narrowed = try client.request(#"{"op":"aggregate","model":"Item","select":[["count","*"]],"where":{"region":"b"}}"#)
        #expect(narrowed["shards"] == .array([.string("two")]))
        #expect(narrowed["rows"] == .array([.object(JSONObject([("count", .int(Int64(rows.filter { $0.region == "b" }.count)))]))]))
        // Nothing can match: no shard is asked and the one row says so.
        let none = try client.request(#"{"op":"aggregate","model":"Item","select":[["count","*"],["sum","val"]],"where":{"region":"z"}}"#)
        #expect(none["shards"] == .array([]))
        #expect(none["rows"] == .array([.object(JSONObject([("count", .int(0)), ("sum_val", .null)]))]))
        #expect(daemon.stop() == 0)
    }

    /// A shard sums ints in halves, so a running total that leaves Int64 on one shard and
    /// comes back (SQLite used to fail such a sum, as "integer overflow") gives the exact
    /// answer on both backends, and a total that stays outside is `invalid_value`.
    @Test func sumsOfIntsAreExactOnEachShardWhateverTheRunningTotal() async throws {
        let (daemon, client, _) = try await Self.start()
        let max = Int64.max, min = Int64.min
        var id: Int64 = 2000
        var rows: [String] = []
        // Group 77 comes back into range; 78 stays above it; 79 below; 80 is the extremes.
        for (region, grp, values) in [("a", 77, [max, max, -max]), ("b", 77, [max, max, -max]),
                                      ("a", 78, [max, 10]), ("b", 78, [max, 10]),
                                      ("a", 79, [min, -1]), ("b", 79, [min, -1]),
                                      ("a", 80, [min, max, 1]), ("b", 80, [min, max, 1])] as [(String, Int, [Int64])] {
            for value in values {
                id += 1
                rows.append(#"{"id":\#(id),"region":"\#(region)","grp":\#(grp),"val":\#(value)}"#)
            }
        }
        _ = try client.request(#"{"op":"add","model":"Item","rows":[\#(rows.joined(separator: ","))]}"#)
        _ = try client.request(#"{"op":"commit"}"#)
        for region in ["a", "b"] {
            let back = try client.request(#"{"op":"aggregate","model":"Item","select":[["sum","val"],["avg","val"]],"where":{"region":"\#(region)","grp":77}}"#)
            #expect(back["rows"] == .array([.object(JSONObject([("sum_val", .int(max)), ("avg_val", .double(Double(max) / 3))]))]), "\(region): \(back)")
            let extremes = try client.request(#"{"op":"aggregate","model":"Item","select":[["sum","val"]],"where":{"region":"\#(region)","grp":80}}"#)
            #expect(extremes["rows"] == .array([.object(JSONObject([("sum_val", .int(0))]))]), "\(region): \(extremes)")
            for grp in [78, 79] {
                let out = try client.request(#"{"op":"aggregate","model":"Item","select":[["sum","val"]],"where":{"region":"\#(region)","grp":\#(grp)}}"#)
                #expect(out["error"]?["code"] == .string("invalid_value"), "\(region) \(grp): \(out)")
                #expect(out["error"]?["column"] == .string("val"), "\(region) \(grp): \(out)")
            }
        }
        #expect(daemon.stop() == 0)
    }

    @Test func aSumOfIntsThatLeavesInt64IsAnErrorNeverAWrap() async throws {
        let (daemon, client, _) = try await Self.start()
        _ = try client.request(#"{"op":"add","model":"Item","rows":[{"id":1001,"region":"a","grp":99,"val":9223372036854775000},{"id":1002,"region":"b","grp":99,"val":9223372036854775000}]}"#)
        _ = try client.request(#"{"op":"commit"}"#)
        let answer = try client.request(#"{"op":"aggregate","model":"Item","select":[["sum","val"]],"where":{"grp":99}}"#)
        #expect(answer["error"]?["code"] == .string("invalid_value"), "\(answer)")
        // avg of the same values is fine: it is summed wide.
        let avg = try client.request(#"{"op":"aggregate","model":"Item","select":[["avg","val"]],"where":{"grp":99}}"#)
        #expect(avg["rows"] == .array([.object(JSONObject([("avg_val", .double(Double(Int64(9_223_372_036_854_775_000))))]))]))
        for bad in [#"{"op":"aggregate","model":"Item","select":[["median","x"]]}"#, #"{"op":"aggregate","model":"Item","select":[["sum","label"]]}"#,
                    #"{"op":"aggregate","model":"Item","select":[["sum","*"]]}"#, #"{"op":"aggregate","model":"Item","select":[["count","*"],["count","*"]]}"#,
                    #"{"op":"aggregate","model":"Item","select":[["count","*"]],"order_by":["val"]}"#] {
            let refused = try client.request(bad)
            #expect(refused["ok"] == .bool(false), "\(bad)")
        }
        #expect(daemon.stop() == 0)
    }
}
