import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// Moves (protocol.md 13) through the built daemon: a continent with its reports and samples
/// moves SQLite to SQLite and SQLite to PostgreSQL and back, every value unchanged; writes
/// made while it moves are all on the new shard; the old keys answer `moved`.
@Suite struct MoveTests {
    enum Layout: String, CaseIterable, CustomStringConvertible, Sendable {
        /// asia to europe, both SQLite (Report ids clash: they get new ones).
        case sqlite
        /// asia to a PostgreSQL shard `fifth`.
        case mixed
        var description: String { rawValue }
        var target: String { self == .sqlite ? "europe" : "fifth" }
    }

    /// A child of WeatherLocation with a column of every type, for values that must survive a move.
    static let sample = """

        [models.Sample]
        id = "client"
        primary_key = ["code"]
        shard_by = { parent = "WeatherLocation", via = "location_id" }
        [models.Sample.columns]
        code = "text"
        location_id = { type = "int", nullable = false }
        flag = "bool"
        note = "text"
        value = "real"
        at = "timestamp"
        big = "int"

        """

    /// The weather example with `Sample`, a fifth (PostgreSQL) shard for `.mixed`, and `server` lines.
    static func config(_ layout: Layout, server: String = "") -> String {
        var text = TestConfig.weather(server: server, extra: sample)
        if layout == .mixed {
            text = text.replacingOccurrences(of: "[models.WeatherLocation]", with: "[shards.fifth]\nurl_env = \"SHARDD_PG_FIFTH\"\n\n[models.WeatherLocation]")
        }
        return text
    }

    static func environment(_ layout: Layout) async throws -> [String: String] {
        layout == .mixed ? ["SHARDD_PG_FIFTH": try await TestPostgres.freshSchemaURL()] : [:]
    }

    /// Three Asian cities and two European ones, each with `reports` reports and two samples.
    static func seed(_ client: LineClient, reports: Int = 4) throws {
        for (continent, cities) in [("Asia", ["Tokyo", "Osaka", "Seoul"]), ("Europe", ["Oslo", "Paris"])] {
            for city in cities {
                let added = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"\#(continent)","city":"\#(city)"}}"#)
                let id = try #require(added["objects"]?[0]?["values"]?["id"]?.intValue, "\(added)")
                let rows = (0..<reports).map { #"{"location_id":\#(id),"temperature":\#(Double($0) + 0.25),"report_time":"2026-11-21T09:30:00.12345\#($0)Z"}"# }
                #expect(try client.request(#"{"op":"add","model":"Report","rows":[\#(rows.joined(separator: ","))]}"#)["ok"] == .bool(true))
                let samples = [
                    #"{"code":"\#(city)-a","location_id":\#(id),"flag":true,"note":"日本 \"q\" \\ ok","value":-0.000001,"at":"0001-01-01T00:00:00Z","big":9223372036854775807}"#,
                    #"{"code":"\#(city)-b","location_id":\#(id),"flag":false,"note":null,"value":1e300,"at":"9999-12-31T23:59:59.999999Z","big":-9223372036854775808}"#,
                ]
                #expect(try client.request(#"{"op":"add","model":"Sample","rows":[\#(samples.joined(separator: ","))]}"#)["ok"] == .bool(true))
            }
        }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
    }

    /// Every row of a model as the daemon answers it, without Report's shard-local id (a move
    /// may renumber it), sorted: what must be equal before and after a move.
    static func contents(_ client: LineClient, _ model: String, where filter: String = "{}") throws -> [String] {
        let answer = try client.request(#"{"op":"query","model":"\#(model)","where":\#(filter),"limit":10000}"#)
        let objects = try #require(answer["objects"]?.arrayValue, "\(answer)")
        return objects.map { object -> String in
            guard case .object(var values)? = object["values"] else { return "" }
            if model == "Report" { values.members.removeAll { $0.key == "id" } }
            return JSONValue.object(values).serialized
        }.sorted()
    }

    /// The rows of the Asian cities on a shard, read directly, per table.
    static func asianRows(_ inspection: ShardInspection, _ shard: String) async throws -> [Int64] {
        let asia = "SELECT id FROM weather_locations WHERE continent = 'Asia'"
        return [try await inspection.count(shard, "SELECT count(*) FROM weather_locations WHERE continent = 'Asia'"),
                try await inspection.count(shard, "SELECT count(*) FROM weather_reports WHERE location_id IN (\(asia))"),
                try await inspection.count(shard, "SELECT count(*) FROM weather_reports WHERE location_id NOT IN (SELECT id FROM weather_locations)"),
                try await inspection.count(shard, "SELECT count(*) FROM sample WHERE location_id IN (\(asia))")]
    }

    /// What a move leaves behind on a shard: change logs, triggers, stages (0 when nothing).
    static func scaffolding(_ inspection: ShardInspection, _ shard: String) async throws -> Int64 {
        if inspection.shard(shard).dialect.backend == .postgres {
            return try await inspection.count(shard, "SELECT (SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE '\\_shardd\\_%') + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_shardd\\_%') + (SELECT count(*) FROM pg_proc WHERE proname LIKE '\\_shardd\\_%')")
        }
        return try await inspection.count(shard, "SELECT count(*) FROM sqlite_master WHERE name LIKE '\\_shardd\\_%' ESCAPE '\\'")
    }

    /// Polls `jobs` until job `number` is no longer running.
    static func finished(_ client: LineClient, job number: Int64, seconds: Double = 60) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let answer = try client.request(#"{"op":"jobs","job":\#(number)}"#)
            let job = try #require(answer["jobs"]?[0], "\(answer)")
            if job["state"] != .string("running") || Date() > deadline { return job }
            usleep(20_000)
        }
    }

    @Test(arguments: Layout.allCases)
    func aContinentMovesWithItsChildrenAndBackWithEveryValueUnchanged(_ layout: Layout) async throws {
        let daemon = try Daemon(config: Self.config(layout), environment: try await Self.environment(layout))
        let client = try daemon.client()
        try Self.seed(client)
        let before = try ["WeatherLocation", "Report", "Sample"].map { try Self.contents(client, $0) }
        let oldKey = try #require(try client.request(#"{"op":"query","model":"Report","where":{"location_id":1},"limit":1}"#)["objects"]?[0]?["key"])
        #expect(oldKey[2] == .string("asia"))

        let started = try client.request(#"{"op":"move","model":"Report","value":"Asia","to":"\#(layout.target)"}"#)
        let number = try #require(started["job"]?.intValue, "\(started)")
        let job = try Self.finished(client, job: number)
        #expect(job["state"] == .string("done"), "\(job) \(daemon.log())")
        #expect(job["kind"] == .string("move") && job["moves"] == .int(1) && job["moves_done"] == .int(1))
        // 3 cities, 12 reports, 6 samples.
        #expect(job["rows_total"] == .int(21) && job["rows_copied"] == .int(21), "\(job)")

        let inspection = try ShardInspection(daemon)
        #expect(try await Self.asianRows(inspection, "asia") == [0, 0, 0, 0])
        #expect(try await Self.asianRows(inspection, layout.target) == [3, 12, 0, 6])
        for shard in ["asia", layout.target] { #expect(try await Self.scaffolding(inspection, shard) == 0, "\(shard)") }
        let after = try ["WeatherLocation", "Report", "Sample"].map { try Self.contents(client, $0) }
        #expect(after == before)
        #expect(try client.request(#"{"op":"verify"}"#)["clean"] == .bool(true))

        // Report ids the target already used were renumbered, and listed; the old key answers moved.
        let rekeyed = job["rekeyed"]?.arrayValue ?? []
        // europe's 8 reports have ids 1 to 8: Asia's reports with those ids get 13 to 20.
        #expect(layout == .sqlite ? rekeyed.count == 8 : rekeyed.isEmpty, "\(rekeyed)")
        let stale = try client.request(#"{"op":"get","model":"Report","pk":\#(oldKey[1]![0]!.serialized),"shard":"asia"}"#)
        #expect(stale["error"]?["code"] == .string("moved"), "\(stale)")
        let newKey = try #require(stale["error"]?["key"])
        #expect(newKey[2] == .string(layout.target))
        if layout == .sqlite { #expect(rekeyed.contains(.object(JSONObject([("from", oldKey), ("to", newKey)])))) }
        let got = try client.request(#"{"op":"get","model":"Report","pk":\#(newKey[1]![0]!.serialized),"shard":"\#(layout.target)"}"#)
        #expect(got["object"]?["values"]?["location_id"] == .int(1), "\(got)")
        // The location's reports, renumbered or not, all load from its new shard.
        let loaded = try client.request(#"{"op":"load","key":["WeatherLocation",[1],"\#(layout.target)"],"relationship":"reports"}"#)
        #expect(loaded["objects"]?.arrayValue?.count == 4, "\(loaded)")
        #expect(loaded["objects"]?.arrayValue?.contains { $0["key"] == newKey } == true, "\(loaded)")
        let update = try client.request(#"{"op":"update","key":\#(oldKey.serialized),"values":{"temperature":1.5}}"#)
        #expect(update["error"]?["code"] == .string("moved"), "\(update)")

        // A client that still names the old shard cannot write there what now lives elsewhere.
        let staleChild = try client.request(#"{"op":"add","model":"Report","values":{"location_id":1,"temperature":1.0},"shard":"asia"}"#)
        #expect(staleChild["error"]?["code"] == .string("moved"), "\(staleChild)")
        #expect(staleChild["error"]?["key"] == .array([.string("WeatherLocation"), .array([.int(1)]), .string(layout.target)]), "\(staleChild)")
        let staleHead = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Kyoto"},"shard":"asia"}"#)
        #expect(staleHead["error"]?["code"] == .string("moved") && staleHead["error"]?["shard"] == .string(layout.target), "\(staleHead)")
        // A row that never was on the shard a key names is not "moved" (Oslo, 4, lives on europe).
        let wrongShard = try client.request(#"{"op":"get","model":"WeatherLocation","pk":4,"shard":"asia"}"#)
        #expect(wrongShard["ok"] == .bool(true) && wrongShard["object"] == .null, "\(wrongShard)")
        // An explicit shard for rows that never moved still overrides the rule.
        #expect(try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Rome"},"shard":"asia"}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"rollback"}"#)["ok"] == .bool(true))

        // New Asian rows go to the target; the placement says so, durably.
        let delhi = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Delhi"}}"#)
        #expect(delhi["objects"]?[0]?["key"]?[2] == .string(layout.target), "\(delhi)")
        #expect(try client.request(#"{"op":"rollback"}"#)["ok"] == .bool(true))
        let placement = try client.request(#"{"op":"placement","model":"WeatherLocation"}"#)
        #expect(placement["version"] == .int(2) && placement["groups"]?[0]?["owners"]?["Asia"] == .string(layout.target), "\(placement)")
        let restarted = try daemon.restart()
        let again = try restarted.client()
        #expect(try again.request(#"{"op":"placement"}"#)["version"] == .int(2))
        #expect(try again.request(#"{"op":"jobs"}"#)["jobs"]?[0]?["state"] == .string("done"))
        #expect(try again.request(#"{"op":"get","model":"Report","pk":\#(oldKey[1]![0]!.serialized),"shard":"asia"}"#)["error"]?["key"] == newKey)

        // And back, with shardctl: shards.conf's placement again, every value as it was.
        let back = try ShardctlTests.shardctl(restarted, "rebalance", "--wait")
        #expect(back.status == 0, "\(back.output) \(restarted.log())")
        #expect(back.stdout.contains("\(layout.target)  asia") && back.stdout.contains("done"), "\(back.stdout)")
        #expect(try ["WeatherLocation", "Report", "Sample"].map { try Self.contents(again, $0) } == before)
        let home = try ShardInspection(restarted)
        #expect(try await Self.asianRows(home, "asia") == [3, 12, 0, 6])
        #expect(try await Self.asianRows(home, layout.target) == [0, 0, 0, 0])
        #expect(try again.request(#"{"op":"placement"}"#)["differs"] == .array([]))
        let jobs = try ShardctlTests.shardctl(restarted, "jobs")
        #expect(jobs.status == 0 && jobs.stdout.contains("rebalance") && jobs.stdout.contains("1/1"), "\(jobs.stdout)")
        #expect(restarted.stop() == 0)
    }

    @Test func badMovesAreRefusedWithWhatToDo() async throws {
        let daemon = try Daemon(config: Self.config(.sqlite, server: "") + TestConfig.station)
        let client = try daemon.client()
        let cases: [(String, String, String)] = [
            (#"{"op":"move","model":"Report","to":"europe"}"#, "bad_request", "exactly one of value"),
            (#"{"op":"move","model":"Report","value":"Asia","to":"mars"}"#, "unknown_shard", "mars"),
            (#"{"op":"move","model":"Report","value":"Asia","to":"asia"}"#, "bad_request", "already"),
            (#"{"op":"move","model":"WeatherLocation","bucket":3,"to":"europe"}"#, "bad_request", "move a value"),
            (#"{"op":"move","model":"Station","value":"x","to":"europe"}"#, "bad_request", "by key"),
            (#"{"op":"move","model":"Station","key":["nope"],"to":"europe"}"#, "not_found", "on no shard"),
            (#"{"op":"jobs","job":7}"#, "not_found", "no job 7"),
            (#"{"op":"jobs","job":"x"}"#, "bad_request", "job number"),
        ]
        for (request, code, words) in cases {
            let answer = try client.request(request)
            #expect(answer["error"]?["code"] == .string(code), "\(request): \(answer)")
            #expect(answer["error"]?["message"]?.stringValue?.contains(words) == true, "\(request): \(answer)")
        }
        #expect(try client.request(#"{"op":"jobs"}"#)["jobs"] == .array([]))
        #expect(try client.request(#"{"op":"ping"}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
    }

    /// A row of a model without shard_by moves by key; a move the target refuses (a unique
    /// value it already has) is undone, the job says why, and nothing is left behind.
    @Test func aRowMovesByKeyAndAMoveTheTargetRefusesIsUndone() async throws {
        let daemon = try Daemon(config: Self.config(.sqlite) + TestConfig.station)
        let client = try daemon.client()
        for (code, name, shard) in [("A", "dup", "asia"), ("B", "dup", "europe"), ("C", "only", "asia")] {
            #expect(try client.request(#"{"op":"add","model":"Station","values":{"code":"\#(code)","name":"\#(name)"},"shard":"\#(shard)"}"#)["ok"] == .bool(true))
        }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        let refused = try client.request(#"{"op":"move","model":"Station","key":["A"],"to":"europe"}"#)
        let failed = try Self.finished(client, job: try #require(refused["job"]?.intValue, "\(refused)"))
        #expect(failed["state"] == .string("failed"), "\(failed)")
        #expect(failed["error"]?.stringValue?.contains("Station key [\"A\"] from asia to europe") == true, "\(failed)")
        #expect(failed["error"]?.stringValue?.lowercased().contains("unique") == true, "\(failed)")
        let inspection = try ShardInspection(daemon)
        #expect(try await inspection.count("asia", "SELECT count(*) FROM station WHERE code = 'A'") == 1)
        #expect(try await inspection.count("europe", "SELECT count(*) FROM station WHERE code = 'A'") == 0)
        for shard in ["asia", "europe"] { #expect(try await Self.scaffolding(inspection, shard) == 0) }

        let moved = try client.request(#"{"op":"move","model":"Station","key":["C"],"to":"europe"}"#)
        #expect(try Self.finished(client, job: try #require(moved["job"]?.intValue))["state"] == .string("done"))
        #expect(try client.request(#"{"op":"get","model":"Station","pk":"C"}"#)["object"]?["key"]?[2] == .string("europe"))
        #expect(try client.request(#"{"op":"get","model":"Station","pk":"C","shard":"asia"}"#)["error"]?["code"] == .string("moved"))
        #expect(try await inspection.count("asia", "SELECT count(*) FROM station WHERE code = 'C'") == 0)
        #expect(daemon.stop() == 0)
    }
}
