import Foundation
import ShardProtocol
import ShardTestSupport
import Testing

/// Computed values in `update` / `update_where` (protocol.md 7) on SQLite and PostgreSQL
/// shards alike: each shard computes from the row, the answer and the identity map carry the
/// results, and an overflow or a division by zero is `invalid_value` with nothing changed.
@Suite struct ComputedValueTests {
    static let model = """

        [models.Item]
        id = "client"
        shard_by = { column = "region", map = { "n" = "one", "e" = "two", "s" = "three", "w" = "four" } }
        [models.Item.columns]
        id = "int"
        region = { type = "text", nullable = false }
        val = "int"
        x = "real"
        label = "text"
        at = "timestamp"
        """

    /// Rows 1-4 on one, two (PostgreSQL), three, four (PostgreSQL).
    static let rows = #"[{"id":1,"region":"n","val":-7,"x":1.5,"label":"a"},{"id":2,"region":"e","val":-7,"x":1.5,"label":"a"},{"id":3,"region":"s","val":9223372036854775807,"x":2.0,"label":"é"},{"id":4,"region":"w","val":9223372036854775807,"x":2.0,"label":"é"}]"#
    static let shards = ["one", "two", "three", "four"]

    static func values(_ answer: JSONValue) -> JSONValue? { answer["object"]?["values"] }

    @Test func eachShardComputesFromTheRow() async throws {
        let daemon = try Daemon(config: MixedShards.config + Self.model, environment: try await MixedShards.environment())
        let client = try daemon.client()
        #expect(try client.request(#"{"op":"add","model":"Item","rows":\#(Self.rows)}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        for (id, shard) in zip([1, 2], ["one", "two"]) {
            let key = #"["Item",[\#(id)],"\#(shard)"]"#
            // Real arithmetic nested, int division toward zero, text concatenation, now.
            let answer = try client.request(#"{"op":"update","key":\#(key),"values":{"x":["+","x",["*","val",0.5]],"val":["/","val",2],"label":["concat","label","-ü"],"at":["now"]}}"#)
            #expect(Self.values(answer)?["x"] == .double(-2.0), "\(shard): \(answer)")
            #expect(Self.values(answer)?["val"] == .int(-3), "\(shard): \(answer)")
            #expect(Self.values(answer)?["label"] == .string("a-ü"), "\(shard): \(answer)")
            #expect(Self.values(answer)?["at"] != .null, "\(shard): \(answer)")
            // The identity map holds what the shard computed.
            let held = try client.request(#"{"op":"get","model":"Item","pk":\#(id),"shard":"\#(shard)"}"#)
            #expect(Self.values(held)?["val"] == .int(-3) && Self.values(held)?["x"] == .double(-2.0), "\(held)")
        }

        // An int overflow and a division by zero change nothing, on either backend.
        for (id, shard) in zip([3, 4], ["three", "four"]) {
            let key = #"["Item",[\#(id)],"\#(shard)"]"#
            for values in [#"{"label":"changed","val":["+","val",1]}"#, #"{"val":["/","val",0]}"#, #"{"x":["/","x",0]}"#,
                           #"{"x":["*","x",1e308]}"#, #"{"val":["-",  "val", ["*","val",-1]]}"#] {
                let answer = try client.request(#"{"op":"update","key":\#(key),"values":\#(values)}"#)
                #expect(answer["error"]?["code"] == .string("invalid_value"), "\(shard) \(values): \(answer)")
                let fresh = try client.request(#"{"op":"get","model":"Item","pk":\#(id),"shard":"\#(shard)","fresh":true}"#)
                #expect(Self.values(fresh)?["val"] == .int(Int64.max) && Self.values(fresh)?["label"] == .string("é"), "\(shard) \(values): \(fresh)")
            }
        }

        // update_where over every shard: one shard's overflow undoes them all.
        let failed = try client.request(#"{"op":"update_where","model":"Item","values":{"val":["+","val",1]}}"#)
        #expect(failed["error"]?["code"] == .string("invalid_value"), "\(failed)")
        let counted = try client.request(#"{"op":"count","model":"Item","where":["=","val",-2]}"#)
        #expect(counted["count"] == .int(0), "\(counted)")
        // Then one that fits everywhere: the held objects are refreshed from what each shard wrote.
        let done = try client.request(#"{"op":"update_where","model":"Item","where":["<","val",0],"values":{"val":["*","val",-10],"x":["-","x",1]}}"#)
        #expect(done["count"] == .int(2), "\(done)")
        for (id, shard) in zip([1, 2], ["one", "two"]) {
            let held = try client.request(#"{"op":"get","model":"Item","pk":\#(id),"shard":"\#(shard)"}"#)
            #expect(Self.values(held)?["val"] == .int(30) && Self.values(held)?["x"] == .double(-3.0), "\(held)")
        }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        // Mistakes, each with its code; the session goes on.
        let mistakes: [(String, String)] = [
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"val":["+","val",1.5]}}"#, "invalid_value"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"val":["+","label",1]}}"#, "invalid_value"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"label":["concat","label",1]}}"#, "invalid_value"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"val":["now"]}}"#, "invalid_value"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"val":["+","nope",1]}}"#, "unknown_column"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"val":["%","val",1]}}"#, "bad_request"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"val":["+","val"]}}"#, "bad_request"),
            (#"{"op":"update","key":["Item",[1],"one"],"values":{"region":["concat","region","x"]}}"#, "shard_key_change"),
            (#"{"op":"update_where","model":"Item","values":{"region":["concat","region","x"]}}"#, "shard_key_change"),
            (#"{"op":"add","model":"Item","values":{"id":9,"region":"n","val":["+","val",1]}}"#, "invalid_value"),
        ]
        for (line, code) in mistakes {
            let answer = try client.request(line)
            #expect(answer["error"]?["code"] == .string(code), "\(line): \(answer)")
        }
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(daemon.stop() == 0)
    }
}
