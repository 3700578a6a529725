import Testing

@testable import ShardCore
import ShardProtocol

/// Requests decoded into typed operations, with every argument check, without a socket or a
/// database: the weather models, and the first problem of a request is the one reported.
@Suite struct RequestDecodingTests {
    static let configuration = try! ConfigLoader.parse(
        DefaultConfiguration.text + """

            [models.Note]
            id = "client"
            [models.Note.columns]
            id = "int"
            body = { type = "text", nullable = false }
            """,
        file: "shards.conf", baseDirectory: "/srv", environment: [:])

    static func decode(_ line: String, configuration: Configuration = configuration) throws(ShardError) -> Request {
        let json: JSONValue
        do { json = try JSONValue.parse(line) } catch { throw ShardError(.badJSON, error.message) }
        return try Request.decode(json, configuration: configuration)
    }

    /// The error a request is refused with (its code and message), or a recorded issue.
    @discardableResult
    static func refusal(_ line: String, _ code: ErrorCode, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) -> ShardError? {
        do {
            _ = try decode(line)
            Issue.record("\(line) was accepted", sourceLocation: sourceLocation)
            return nil
        } catch {
            #expect(error.code == code, "\(line): \(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(line): \(error.message)", sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func everyOpHasADecoderAndUnknownOpsListThemInOrder() {
        #expect(Request.names == [
            "hello", "ping", "add", "get", "query", "count", "update", "delete", "load", "refresh",
            "begin", "commit", "rollback", "expunge", "expunge_all", "identity_keys", "update_where", "delete_where", "sql", "aggregate",
            "subscribe", "unsubscribe", "shards", "sessions", "keys", "stats", "transaction_status", "transactions", "placement", "verify", "rebalance", "move", "jobs",
            "reload", "metrics", "config",
        ])
        Self.refusal(#"{"op":"launch"}"#, .unknownOp, "unknown op \"launch\" (ops: hello, ping, add, get, query, count, update, delete, load, refresh, begin, commit, rollback, expunge, expunge_all, identity_keys, update_where, delete_where, sql, aggregate, subscribe, unsubscribe, shards, sessions, keys, stats, transaction_status, transactions, placement, verify, rebalance, move, jobs, reload, metrics, config)")
        #expect(Request.isKnown("expunge_all") && !Request.isKnown("launch"))
    }

    @Test func unknownArgumentsNameTheOnesTheOpTakes() {
        Self.refusal(#"{"op":"ping","shard":"asia"}"#, .badRequest, "ping has no argument \"shard\" (arguments: none)")
        Self.refusal(#"{"op":"get","model":"Report","pk":1,"limit":1,"x":2}"#, .badRequest,
                     "get has no arguments \"limit\", \"x\" (arguments: fresh, include, model, pk, shard)")
        Self.refusal(#"{"op":"query","model":"Report","filter":{}}"#, .badRequest,
                     "(arguments: after, include, limit, model, offset, order_by, page_size, shard, shards, where)")
        Self.refusal(#"{"op":"keys","sessions":1}"#, .badRequest, "(arguments: limit, model, session)")
        Self.refusal(#"{"op":"hello","version":1}"#, .badRequest, "(arguments: client)")
    }

    @Test func theFirstProblemInReadingOrderIsTheOneReported() {
        // The model is read first: an unknown model wins over a bad pk, a bad flag, an unknown argument.
        Self.refusal(#"{"op":"get","model":"Nope","pk":[1,2],"fresh":"yes","x":1}"#, .unknownModel, "\"Nope\" is not a model (models: WeatherLocation, Report, Note)")
        Self.refusal(#"{"op":"get","model":"Report","pk":[1,2],"fresh":"yes"}"#, .badRequest, "Report's primary key is (id): give 1 value(s), got 2")
        Self.refusal(#"{"op":"get","model":"Report","pk":1,"fresh":"yes","x":1}"#, .badRequest, "fresh must be true or false")
        // Argument shapes before unknown arguments; unknown arguments before shard names.
        Self.refusal(#"{"op":"get","model":"Report","pk":1,"shard":"mars","x":1}"#, .badRequest, "has no argument \"x\"")
        Self.refusal(#"{"op":"get","model":"Report","pk":1,"shard":"mars"}"#, .unknownShard, "\"mars\" is not a shard")
        Self.refusal(#"{"op":"query","model":"Report","where":{"nope":1},"order_by":["x"]}"#, .unknownColumn, "no column \"nope\"")
        Self.refusal(#"{"op":"query","model":"Report","order_by":["nope"],"limit":-1}"#, .unknownColumn, "no column \"nope\"")
        Self.refusal(#"{"op":"query","model":"Report","limit":-1,"shards":"asia"}"#, .badRequest, "limit must be a non-negative integer")
        Self.refusal(#"{"op":"query","model":"Report","shard":"asia","shards":["asia"]}"#, .badRequest, "give shard or shards, not both")
        Self.refusal(#"{"op":"count","model":"Report","shards":["asia","mars"]}"#, .unknownShard, "\"mars\" is not a shard")
    }

    @Test func readsDecodeToTheirRequests() throws {
        guard case .get(let get) = try Self.decode(#"{"op":"get","model":"Report","pk":[7],"shard":"asia","include":["location","location"]}"#) else {
            Issue.record("not a get"); return
        }
        #expect(get.model.name == "Report" && get.primaryKey == [.int(7)] && get.shards == ["asia"] && !get.fresh)
        #expect(get.include.map(\.name) == ["location"])
        guard case .get(let everywhere) = try Self.decode(#"{"op":"get","model":"WeatherLocation","pk":1,"fresh":true}"#) else { return }
        #expect(everywhere.shards == ["north_america", "asia", "europe", "south_america"] && everywhere.fresh)

        guard case .query(let query) = try Self.decode(#"{"op":"query","model":"Report","where":[">","temperature",80],"order_by":["-temperature","id"],"limit":5,"offset":2,"shards":["europe","asia","europe"]}"#) else {
            Issue.record("not a query"); return
        }
        #expect(query.filter == .compare(.greater, column: "temperature", .real(80)))
        #expect(query.order == [SortKey(column: "temperature", descending: true), SortKey(column: "id")])
        #expect(query.limit == 5 && query.offset == 2)
        #expect(query.shards == ["asia", "europe"], "checked, without repeats, in file order")

        guard case .aggregate(let aggregate) = try Self.decode(#"{"op":"aggregate","model":"Report","select":[["avg","temperature","t"]],"group_by":["location_id"],"having":[">","t",1],"order_by":["-t"],"limit":3}"#) else {
            Issue.record("not an aggregate"); return
        }
        #expect(aggregate.plan.resultColumns.map(\.name) == ["location_id", "t"])
        #expect(aggregate.having == .compare(.greater, column: "t", .real(1)) && aggregate.limit == 3 && aggregate.shards == nil)
        Self.refusal(#"{"op":"aggregate","model":"Report","select":[["avg","temperature"]],"having":[">","temperature",1]}"#, .unknownColumn, "no column \"temperature\"")
        Self.refusal(#"{"op":"aggregate","model":"Report"}"#, .badRequest, "aggregate needs select")

        guard case .load(let load) = try Self.decode(#"{"op":"load","key":["WeatherLocation",[1],"asia"],"relationship":"reports"}"#) else { return }
        #expect(load.key == IdentityKey(model: "WeatherLocation", primaryKey: [.int(1)], token: "asia"))
        #expect(load.relationship.name == "reports" && load.other.name == "Report")
        Self.refusal(#"{"op":"load","key":["WeatherLocation",[1],"asia"],"relationship":"visits"}"#, .unknownRelationship, "WeatherLocation has no relationship \"visits\" (relationships: reports)")
        Self.refusal(#"{"op":"load","key":["WeatherLocation",[1],"mars"],"relationship":"visits"}"#, .unknownShard, "\"mars\" is not a shard")
        Self.refusal(#"{"op":"refresh","key":["Report",["1"],"asia"]}"#, .invalidValue, "column id: expected an integer")
        Self.refusal(#"{"op":"delete","key":["Report",1,"asia"]}"#, .badRequest, "an identity key is [model, [primary key values...], shard]")
    }

    @Test func addChecksEveryRowBeforeAnythingRuns() throws {
        guard case .add(let add) = try Self.decode(#"{"op":"add","model":"Note","rows":[{"id":1,"body":"a"},{"id":2,"body":"b"}],"shard":"europe"}"#) else {
            Issue.record("not an add"); return
        }
        #expect(add.rows == [["id": .int(1), "body": .text("a")], ["id": .int(2), "body": .text("b")]])
        #expect(add.shard == "europe")
        guard case .add(let location) = try Self.decode(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#) else { return }
        #expect(location.rows == [["continent": .text("Asia"), "city": .text("Tokyo")]], "the sequence key is made later")
        Self.refusal(#"{"op":"add","model":"Note","rows":[]}"#, .badRequest, "rows must hold at least one row")
        Self.refusal(#"{"op":"add","model":"Note","rows":{}}"#, .badRequest, "rows must be a list of value objects")
        Self.refusal(#"{"op":"add","model":"Note"}"#, .badRequest, "add needs values (one row) or rows (a list)")
        Self.refusal(#"{"op":"add","model":"Note","values":{},"rows":[{}]}"#, .badRequest, "give values or rows, not both")
        let second = Self.refusal(#"{"op":"add","model":"Note","rows":[{"id":1,"body":"a"},{"id":2}],"shard":"mars"}"#, .invalidValue, "Note.body is required")
        #expect(second?.column == "body")
        Self.refusal(#"{"op":"add","model":"Note","rows":[{"id":1,"body":"a"}],"shard":"mars"}"#, .unknownShard, "\"mars\" is not a shard")
        Self.refusal(#"{"op":"add","model":"WeatherLocation","values":{"id":5,"continent":"Asia","city":"T"}}"#, .invalidValue, "made by the daemon's sequence")
        Self.refusal(#"{"op":"add","model":"Note","values":{"id":1,"body":"a","color":"red"}}"#, .unknownColumn, "Note has no column \"color\"")
    }

    @Test func updatesCheckTheirChanges() throws {
        guard case .update(let update) = try Self.decode(#"{"op":"update","key":["Report",[1],"asia"],"values":{"temperature":86}}"#) else {
            Issue.record("not an update"); return
        }
        #expect(update.changes.map(\.column) == ["temperature"] && update.changes.map(\.value) == [.value(.real(86))])
        Self.refusal(#"{"op":"update","key":["Report",[1],"asia"],"values":{}}"#, .badRequest, "values must name at least one column to change")
        Self.refusal(#"{"op":"update","key":["Report",[1],"asia"],"values":{"id":2}}"#, .badRequest, "Report.id is part of the primary key, which update cannot change")
        let notNull = Self.refusal(#"{"op":"update","key":["Report",[1],"asia"],"values":{"location_id":null}}"#, .invalidValue, "column location_id: null is not allowed")
        #expect(notNull?.column == "location_id")
        Self.refusal(#"{"op":"update","key":["Report",[1],"asia"],"values":{}, "where":{}}"#, .badRequest, "update has no argument \"where\"")

        guard case .updateWhere(let bulk) = try Self.decode(#"{"op":"update_where","model":"Report","where":{"location_id":1},"values":{"temperature":1},"shard":"asia"}"#) else { return }
        #expect(bulk.shards == ["asia"] && bulk.filter == .compare(.equal, column: "location_id", .int(1)))
        let moves = Self.refusal(#"{"op":"update_where","model":"WeatherLocation","values":{"continent":"Europe"},"shard":"mars"}"#, .shardKeyChange, "WeatherLocation.continent decides the rows' shards")
        #expect(moves?.column == "continent")
        Self.refusal(#"{"op":"update_where","model":"Report","values":{"temperature":1},"shard":"mars"}"#, .unknownShard, "\"mars\" is not a shard")
        Self.refusal(#"{"op":"update_where","model":"Report","where":{"temperature":1}}"#, .badRequest, "update_where needs values")
        guard case .deleteWhere(let delete) = try Self.decode(#"{"op":"delete_where","model":"Report"}"#) else { return }
        #expect(delete.filter == nil && delete.shards == nil)
    }

    @Test func adminAndRawSQLArguments() throws {
        guard case .keys(let keys) = try Self.decode(#"{"op":"keys","session":"x","model":"Report"}"#) else { return }
        #expect(keys.session == nil && keys.model == "Report" && keys.limit == 1000)
        guard case .keys(let one) = try Self.decode(#"{"op":"keys","session":3,"limit":2}"#) else { return }
        #expect(one.session == 3 && one.limit == 2)
        #expect(try Self.decode(#"{"op":"stats"}"#).isAdmin && !(try Self.decode(#"{"op":"ping"}"#).isAdmin))
        guard case .identityKeys(let model) = try Self.decode(#"{"op":"identity_keys","model":"Report"}"#) else { return }
        #expect(model == "Report")
        Self.refusal(#"{"op":"identity_keys","model":"Visit"}"#, .unknownModel, "\"Visit\" is not a model")

        // Raw SQL: refused unless enabled, after its arguments are read; never routed.
        Self.refusal(#"{"op":"sql","sql":"SELECT 1","shard":"asia"}"#, .forbidden, "set allow_raw_sql = true")
        Self.refusal(#"{"op":"sql","sql":"SELECT 1","shard":"asia","x":1}"#, .badRequest, "sql has no argument \"x\"")
        Self.refusal(#"{"op":"sql","sql":"SELECT 1","params":[[1]],"shard":"asia"}"#, .badRequest, "params holds JSON scalars only")
        let open = try ConfigLoader.parse(DefaultConfiguration.text.replacing("[server]\n", with: "[server]\nallow_raw_sql = true\n"), file: "shards.conf", baseDirectory: "/srv", environment: [:])
        guard case .sql(let sql) = try Self.decode(#"{"op":"sql","sql":"SELECT $1","params":[1,2.5,"x",null,true],"shards":["europe","asia"]}"#, configuration: open) else {
            Issue.record("not sql"); return
        }
        #expect(sql.params == [.int(1), .real(2.5), .text("x"), .null, .bool(true)] && sql.shards == ["asia", "europe"])
        #expect(throws: ShardError(.badRequest, "sql needs shard or shards: raw SQL is never routed")) {
            try Self.decode(#"{"op":"sql","sql":"SELECT 1"}"#, configuration: open)
        }
    }
}
