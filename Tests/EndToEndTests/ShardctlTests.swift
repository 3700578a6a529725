import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `shardctl`, the built binary run as a process against a daemon started by the test:
/// every subcommand in its human and `--json` form, exit statuses 0/1/2, and `--help`.
@Suite struct ShardctlTests {
    /// The built `shardctl`, beside `shardd`.
    static var binary: String {
        URL(fileURLWithPath: Daemon.binary).deletingLastPathComponent().appendingPathComponent("shardctl").path
    }

    /// Runs shardctl with `arguments`; `SHARDD_SOCKET` is cleared unless `environment` sets it.
    static func shardctl(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> ProcessRun {
        try Process.output(of: binary, arguments, in: directory, environment: ["SHARDD_SOCKET": ""].merging(environment) { $1 })
    }

    /// Runs `shardctl arguments --socket <daemon's socket>`.
    static func shardctl(_ daemon: Daemon, _ arguments: String...) throws -> ProcessRun {
        try shardctl(arguments + ["--socket", daemon.socketPath])
    }

    /// The weather rows: Tokyo (1) and Osaka (4) on asia, London (2) on europe, New York (3) on
    /// north_america; a report on each of those three shards, each with the shard-local id 1.
    static func seed(_ daemon: Daemon) throws {
        let client = try daemon.client()
        let locations = try client.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Tokyo"},{"continent":"Europe","city":"London"},{"continent":"North America","city":"New York"},{"continent":"Asia","city":"Osaka"}]}"#)
        #expect(locations["ok"] == .bool(true), "\(locations)")
        let reports = try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":1,"temperature":80.5,"report_time":"2026-11-21T09:30:00Z"},{"location_id":2,"temperature":61.0},{"location_id":3,"temperature":null}]}"#)
        #expect(reports["ok"] == .bool(true), "\(reports)")
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
    }

    /// The single JSON document on stdout.
    static func document(_ run: ProcessRun) throws -> JSONValue {
        try JSONValue.parse(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The lines of stdout, each split at runs of spaces.
    static func cells(_ run: ProcessRun) -> [[String]] {
        run.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    }

    static func elements(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let elements)? = value { return elements }
        return []
    }

    static let shardNames = ["north_america", "asia", "europe", "south_america"]

    // MARK: - Admin subcommands

    @Test func shardsShowsEveryShardWithRowsPerModelPoolAndURL() throws {
        let daemon = try Daemon()
        try Self.seed(daemon)

        let human = try Self.shardctl(daemon, "shards")
        #expect(human.status == 0, "\(human.output)")
        let lines = Self.cells(human)
        #expect(lines.first == ["name", "backend", "status", "latency", "WeatherLocation", "Report", "pool", "url"])
        #expect(lines.dropFirst().map { $0.first } == Self.shardNames)
        // asia: sqlite, up, "0.12 ms", 2 locations, 1 report, pool n/4, its file.
        let asia = try #require(lines.first { $0.first == "asia" })
        #expect(asia.count == 9, "\(asia)")
        #expect(Array(asia[1...2]) == ["sqlite", "up"])
        #expect(Double(asia[3]) != nil && asia[4] == "ms")
        #expect(Array(asia[5...6]) == ["2", "1"])
        #expect(asia[7].hasSuffix("/4"))
        #expect(asia[8].hasPrefix("sqlite:") && asia[8].hasSuffix("data/asia.db"))
        #expect(lines.first { $0.first == "south_america" }.map { Array($0[5...6]) } == ["0", "0"])

        let json = try Self.shardctl(daemon, "shards", "--json")
        #expect(json.status == 0, "\(json.output)")
        let shards = Self.elements(try Self.document(json)["shards"])
        #expect(shards.map { $0["name"] } == Self.shardNames.map { .string($0) })
        #expect(shards.allSatisfy { $0["status"] == .string("up") && $0["backend"] == .string("sqlite") })
        #expect(shards[1]["rows"] == .object(JSONObject([("WeatherLocation", .int(2)), ("Report", .int(1))])))
        #expect(shards[1]["pool"]?["size"] == .int(4))
        #expect(daemon.stop() == 0)
    }

    @Test func shardsShowsPostgresBackendsWithTheirPasswordRedacted() async throws {
        let config = MixedShards.config + """
            [models.Item]
            id = "client"
            shard_by = { column = "id", hash = true }
            [models.Item.columns]
            id = "int"
            """
        let environment = try await MixedShards.environment()
        let daemon = try Daemon(config: config, environment: environment)
        let human = try Self.shardctl(daemon, "shards")
        #expect(human.status == 0, "\(human.output)")
        let lines = Self.cells(human)
        #expect(lines.first == ["name", "backend", "status", "latency", "Item", "pool", "url"])
        let two = try #require(lines.first { $0.first == "two" })
        #expect(Array(two[1...2]) == ["postgres", "up"])
        let url = try #require(environment["SHARDD_PG_A"])
        let password = try #require(URLComponents(string: url)?.password)
        #expect(!human.stdout.contains(":\(password)@"), "the password is shown: \(human.stdout)")
        #expect(two.last?.hasPrefix("postgres") == true)
        #expect(daemon.stop() == 0)
    }

    @Test func sessionsAndKeysShowWhatLiveSessionsHold() throws {
        let daemon = try Daemon()
        try Self.seed(daemon)
        // A session with an open transaction and five keys: four locations and one report.
        let other = try daemon.client()
        guard case .int(let session)? = try other.request(#"{"op":"hello","client":"test"}"#)["session"] else {
            Issue.record("no session number"); return
        }
        _ = try other.request(#"{"op":"query","model":"WeatherLocation"}"#)
        #expect(try other.request(#"{"op":"add","model":"Report","values":{"location_id":4,"temperature":70}}"#)["ok"] == .bool(true))

        let sessions = try Self.shardctl(daemon, "sessions")
        #expect(sessions.status == 0, "\(sessions.output)")
        let lines = Self.cells(sessions)
        #expect(lines.first == ["session", "pid", "uid", "connected_at", "in_transaction", "identity_keys", "requests"])
        let row = try #require(lines.first { $0.first == "\(session)" })
        #expect(row == ["\(session)", "\(getpid())", "\(getuid())", row[3], "yes", "5", "3"])
        #expect(row[3].hasSuffix("Z"), "connected_at is RFC 3339 UTC: \(row[3])")
        // shardctl's own session is marked.
        #expect(lines.dropFirst().contains { $0.first?.hasSuffix("*") == true && $0[4] == "no" })

        let sessionsJSON = try Self.shardctl(daemon, "sessions", "--json")
        #expect(sessionsJSON.status == 0, "\(sessionsJSON.output)")
        let live = Self.elements(try Self.document(sessionsJSON)["sessions"])
        #expect(live.count == 2)
        let busy = try #require(live.first { $0["session"] == .int(session) })
        #expect(busy["in_transaction"] == .bool(true) && busy["identity_keys"] == .int(5) && busy["pid"] == .int(Int64(getpid())))

        let keys = try Self.shardctl(daemon, "keys", "--session", "\(session)", "--model", "WeatherLocation", "--limit", "2")
        #expect(keys.status == 0, "\(keys.output)")
        #expect(Self.cells(keys) == [
            ["session", "key"],
            ["\(session)", #"["WeatherLocation",[3],"north_america"]"#],
            ["\(session)", #"["WeatherLocation",[1],"asia"]"#],
            ["(the", "first", "2", "keys;", "there", "may", "be", "more:", "raise", "--limit)"],
        ])
        let allKeys = try Self.shardctl(daemon, "keys")
        #expect(allKeys.stdout.split(separator: "\n").count == 6, "a header and five keys: \(allKeys.stdout)")
        #expect(allKeys.stdout.contains(#"["Report",[2],"asia"]"#))

        let keysJSON = try Self.shardctl(daemon, "keys", "--model", "Report", "--json")
        #expect(keysJSON.status == 0, "\(keysJSON.output)")
        #expect(try Self.document(keysJSON) == .object(JSONObject([("keys", .array([.object(JSONObject([
            ("session", .int(session)), ("key", .array([.string("Report"), .array([.int(2)]), .string("asia")])),
        ]))]))])))

        let none = try Self.shardctl(daemon, "keys", "--session", "999")
        #expect(none.status == 0 && none.stdout == "no identity keys in session 999\n", "\(none.output)")
        let badLimit = try Self.shardctl(daemon, "keys", "--limit", "-1")
        #expect(badLimit.status == 64 && badLimit.stderr.contains("--limit must be 0 or more"), "\(badLimit.output)")
        #expect(daemon.stop() == 0)
    }

    @Test func statsShowsRequestsLatenciesErrorsAndStatementsPerShard() throws {
        let daemon = try Daemon()
        try Self.seed(daemon)
        _ = try daemon.client().request(#"{"op":"fly"}"#)

        let human = try Self.shardctl(daemon, "stats")
        #expect(human.status == 0, "\(human.output)")
        let sections = human.stdout.components(separatedBy: "\n\n")
        #expect(sections.count == 5, "\(human.stdout)")
        let summary = sections[0].split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(summary.map(\.first) == ["uptime", "connections", "config_version", "transactions_open", "commits_pending", "slow_clients_disconnected"])
        #expect(summary[1].first == "connections" && Int(summary[1][1]) ?? 0 >= 1, "\(summary)")
        #expect(summary[2] == ["config_version", "1"] && summary[3] == ["transactions_open", "0"], "\(summary)")
        let ops = sections[1].split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(ops.first == ["op", "requests", "p50", "µs", "p99", "µs"])
        let add = try #require(ops.first { $0.first == "add" })
        #expect(add.count == 4 && add[1] == "2" && Int(add[2])! > 0 && Int(add[3])! >= Int(add[2])!, "\(add)")
        #expect(sections[2].split(separator: "\n").map { $0.split(separator: " ").map(String.init) } == [["error", "count"], ["unknown_op", "1"]])
        let shards = sections[3].split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(shards.first == ["shard", "statements", "errors", "up", "pool", "open", "in", "use", "waiting"])
        #expect(shards.dropFirst().map(\.first) == Self.shardNames)
        #expect(shards.dropFirst().allSatisfy { $0[3] == "up" && $0[4] == "4" && $0[7] == "0" }, "\(shards)")
        let commits = sections[4].split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(commits.first == ["commits", "outcome", "count"])
        // The seed's one commit, across three shards; every other kind and outcome listed at 0.
        #expect(commits.contains(["two_phase", "committed", "1"]) && commits.contains(["single", "committed", "0"]), "\(commits)")

        let json = try Self.shardctl(daemon, "stats", "--json")
        #expect(json.status == 0, "\(json.output)")
        let stats = try Self.document(json)
        #expect(stats["requests"]?["add"] == .int(2))
        #expect(stats["errors"]?["unknown_op"] == .int(1))
        if case .int(let connections)? = stats["connections"] { #expect(connections >= 1) } else { Issue.record("\(stats)") }
        if case .int(let uptime)? = stats["uptime_s"] { #expect(uptime >= 0) } else { Issue.record("\(stats)") }
        #expect(stats["latency_us"]?["add"]?["p50"] != nil)
        #expect(stats["per_shard"]?["asia"]?["statements"] != nil)
        #expect(stats["pools"]?["asia"]?["size"] == .int(4) && stats["pools"]?["asia"]?["waiting"] == .int(0))
        #expect(stats["config_version"] == .int(1))
        #expect(daemon.stop() == 0)
    }

    @Test func pingAnswersPongWithTheRoundTrip() throws {
        let daemon = try Daemon()
        let human = try Self.shardctl(daemon, "ping")
        #expect(human.status == 0, "\(human.output)")
        #expect(human.stdout.wholeMatch(of: /pong \(\d+ µs\)\n/) != nil, "\(human.stdout)")
        let json = try Self.shardctl(daemon, "ping", "--json")
        #expect(json.status == 0 && json.stderr.isEmpty, "\(json.output)")
        #expect(try Self.document(json) == .object(JSONObject([("pong", .bool(true))])))
        #expect(daemon.stop() == 0)
    }

    // MARK: - Operator subcommands

    @Test func getShowsOneRowByPrimaryKey() throws {
        let daemon = try Daemon(config: TestConfig.weather(extra: TestConfig.station))
        try Self.seed(daemon)
        let client = try daemon.client()
        #expect(try client.request(#"{"op":"add","model":"Station","values":{"code":"OSL","name":"Oslo"},"shard":"europe"}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        let report = try Self.shardctl(daemon, "get", "Report", "1", "--shard", "asia")
        #expect(report.status == 0, "\(report.output)")
        #expect(Self.cells(report) == [
            ["key", #"["Report",[1],"asia"]"#], ["id", "1"], ["location_id", "1"], ["temperature", "80.5"],
            ["report_time", "2026-11-21T09:30:00Z"],
        ])
        let json = try Self.shardctl(daemon, "get", "Report", "1", "--shard", "europe", "--json")
        #expect(json.status == 0, "\(json.output)")
        let object = try Self.document(json)["object"]
        #expect(object?["key"] == .array([.string("Report"), .array([.int(1)]), .string("europe")]))
        #expect(object?["values"]?["temperature"] == .double(61) && object?["values"]?["report_time"] == .null)

        // Not found is an answer, not an error.
        let missing = try Self.shardctl(daemon, "get", "Report", "7")
        #expect(missing.status == 0 && missing.stdout == "no Report with pk 7\n", "\(missing.output)")
        let missingJSON = try Self.shardctl(daemon, "get", "Report", "7", "--json")
        #expect(missingJSON.status == 0, "\(missingJSON.output)")
        #expect(try Self.document(missingJSON) == .object(JSONObject([("object", .null)])))

        // A text primary key, quoted as JSON or as a bare word.
        for pk in [#""OSL""#, "OSL", #"["OSL"]"#] {
            let station = try Self.shardctl(daemon, "get", "Station", pk)
            #expect(station.status == 0, "\(pk): \(station.output)")
            #expect(Self.cells(station).first == ["key", #"["Station",["OSL"],"europe"]"#], "\(pk)")
            #expect(station.stdout.contains("name  Oslo"))
        }
        let noStation = try Self.shardctl(daemon, "get", "Station", "BGO", "--shard", "europe")
        #expect(noStation.stdout == "no Station with pk \"BGO\" on shard europe\n", "\(noStation.output)")

        // The same shard-local id on three shards: the daemon asks for a shard.
        let ambiguous = try Self.shardctl(daemon, "get", "Report", "1")
        #expect(ambiguous.status == 1 && ambiguous.stdout.isEmpty)
        #expect(ambiguous.stderr.hasPrefix("error[ambiguous_identity]: Report 1 exists on several shards"), "\(ambiguous.stderr)")
        #expect(ambiguous.stderr.contains("--shard (north_america, asia, europe)"))

        let badPK = try Self.shardctl(daemon, "get", "Report", "[1", "--socket", daemon.socketPath)
        #expect(badPK.status == 64 && badPK.stderr.contains("PK [1 is not valid JSON"), "\(badPK.output)")
        let nullPK = try Self.shardctl(daemon, "get", "Report", "null")
        #expect(nullPK.status == 64 && nullPK.stderr.contains("cannot be null"), "\(nullPK.output)")
        #expect(daemon.stop() == 0)
    }

    @Test func queryPrintsOneLinePerObjectAndTheShardsAsked() throws {
        let daemon = try Daemon()
        try Self.seed(daemon)

        let asia = try Self.shardctl(daemon, "query", "WeatherLocation", "--where", #"{"continent":"Asia"}"#, "--order-by", "-city")
        #expect(asia.status == 0, "\(asia.output)")
        #expect(asia.stdout == """
            key                             id  continent  city
            ["WeatherLocation",[1],"asia"]   1  Asia       Tokyo
            ["WeatherLocation",[4],"asia"]   4  Asia       Osaka
            2 objects from shard asia

            """)

        let reports = try Self.shardctl(daemon, "query", "Report", "--order-by", "location_id")
        #expect(reports.status == 0, "\(reports.output)")
        #expect(Self.cells(reports) == [
            ["key", "id", "location_id", "temperature", "report_time"],
            [#"["Report",[1],"asia"]"#, "1", "1", "80.5", "2026-11-21T09:30:00Z"],
            [#"["Report",[1],"europe"]"#, "1", "2", "61.0", "null"],
            [#"["Report",[1],"north_america"]"#, "1", "3", "null", "null"],
            ["3", "objects", "from", "shards", "north_america,", "asia,", "europe,", "south_america"],
        ])

        let json = try Self.shardctl(daemon, "query", "WeatherLocation", "--where", #"["in","continent",["Asia","Europe"]]"#,
                                     "--order-by", "city,id", "--limit", "2", "--json")
        #expect(json.status == 0, "\(json.output)")
        let answer = try Self.document(json)
        #expect(answer["shards"] == .array([.string("asia"), .string("europe")]))
        #expect(Self.elements(answer["objects"]).map { $0["values"]?["city"] } == [.string("London"), .string("Osaka")])

        let oneShard = try Self.shardctl(daemon, "query", "WeatherLocation", "--shard", "europe", "--json")
        #expect(Self.elements(try Self.document(oneShard)["objects"]).map { $0["key"] } == [
            .array([.string("WeatherLocation"), .array([.int(2)]), .string("europe")]),
        ])
        let empty = try Self.shardctl(daemon, "query", "Report", "--where", #"[">","temperature",100]"#)
        #expect(empty.status == 0 && empty.stdout == "0 objects from shards north_america, asia, europe, south_america\n", "\(empty.output)")

        // A where the daemon refuses is its error; one that is not JSON is an argument error.
        let unknownColumn = try Self.shardctl(daemon, "query", "Report", "--where", #"[">","humidity",50]"#)
        #expect(unknownColumn.status == 1 && unknownColumn.stdout.isEmpty)
        #expect(unknownColumn.stderr.hasPrefix("error[unknown_column]: "), "\(unknownColumn.stderr)")
        let malformed = try Self.shardctl(daemon, "query", "Report", "--where", #"[">","temperature""#)
        #expect(malformed.status == 64, "\(malformed.output)")
        #expect(malformed.stderr.contains("--where is not valid JSON"), "\(malformed.stderr)")
        let scalar = try Self.shardctl(daemon, "query", "Report", "--where", "42")
        #expect(scalar.status == 64 && scalar.stderr.contains("a JSON object of equalities or a prefix array"), "\(scalar.output)")
        let badOrder = try Self.shardctl(daemon, "query", "Report", "--order-by", "id,,city")
        #expect(badOrder.status == 64 && badOrder.stderr.contains("--order-by"), "\(badOrder.output)")
        #expect(daemon.stop() == 0)
    }

    @Test func countShowsTotalAndPerShard() throws {
        let daemon = try Daemon()
        try Self.seed(daemon)

        let all = try Self.shardctl(daemon, "count", "WeatherLocation")
        #expect(all.status == 0, "\(all.output)")
        #expect(Self.cells(all) == [["shard", "count"], ["north_america", "1"], ["asia", "2"], ["europe", "1"], ["south_america", "0"], ["total", "4"]])

        let routed = try Self.shardctl(daemon, "count", "WeatherLocation", "--where", #"["in","continent",["Asia","Europe"]]"#)
        #expect(routed.stdout == "shard   count\nasia        2\neurope      1\ntotal       3\n", "\(routed.output)")

        let json = try Self.shardctl(daemon, "count", "Report", "--where", #"["not_null","temperature"]"#, "--json")
        #expect(json.status == 0, "\(json.output)")
        let answer = try Self.document(json)
        #expect(answer["count"] == .int(2))
        #expect(answer["per_shard"] == .object(JSONObject(Self.shardNames.map { ($0, .int($0 == "asia" || $0 == "europe" ? 1 : 0)) })))
        #expect(answer["shards"] == .array(Self.shardNames.map { .string($0) }))

        let oneShard = try Self.shardctl(daemon, "count", "WeatherLocation", "--shard", "asia", "--json")
        #expect(try Self.document(oneShard)["per_shard"] == .object(JSONObject([("asia", .int(2))])))
        #expect(daemon.stop() == 0)
    }

    // MARK: - Errors, exit statuses, socket, help

    static let everySubcommand: [[String]] = [
        ["shards"], ["sessions"], ["keys"], ["stats"], ["ping"], ["get", "Report", "1"], ["query", "Report"], ["count", "Report"],
    ]

    @Test func aDaemonErrorIsPrintedAsCodeAndMessageWithExitStatus1() throws {
        let daemon = try Daemon()
        for arguments in [["get", "Nope", "1"], ["query", "Nope"], ["count", "Nope"]] {
            let human = try Self.shardctl(arguments + ["--socket", daemon.socketPath])
            #expect(human.status == 1, "\(arguments): \(human.output)")
            #expect(human.stdout.isEmpty)
            #expect(human.stderr.wholeMatch(of: /error\[unknown_model\]: "Nope" is not a model \(models: WeatherLocation, Report\)\n/) != nil,
                    "\(arguments): \(human.stderr)")

            let json = try Self.shardctl(arguments + ["--socket", daemon.socketPath, "--json"])
            #expect(json.status == 1, "\(arguments): \(json.output)")
            #expect(json.stderr.hasPrefix("error[unknown_model]: "))
            let error = try Self.document(json)["error"]
            #expect(error?["code"] == .string("unknown_model"))
            #expect(error?["message"] == .string(#""Nope" is not a model (models: WeatherLocation, Report)"#))
        }
        let unknownShard = try Self.shardctl(daemon, "query", "Report", "--shard", "mars")
        #expect(unknownShard.status == 1 && unknownShard.stderr.hasPrefix("error[unknown_shard]: "), "\(unknownShard.output)")
        #expect(daemon.stop() == 0)
    }

    @Test func nothingListeningIsExitStatus2WithAHelpfulMessage() throws {
        let directory = TemporaryDirectory()
        let socket = directory.path + "/nobody.sock"
        for arguments in Self.everySubcommand {
            let run = try Self.shardctl(arguments + ["--socket", socket])
            #expect(run.status == 2, "\(arguments): \(run.output)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr == "error[cannot_connect]: no shardd listening at \(socket); start it with `swift run shardd`\n", "\(arguments)")
        }
        let json = try Self.shardctl(["ping", "--socket", socket, "--json"])
        #expect(json.status == 2)
        #expect(try Self.document(json)["error"]?["code"] == .string("cannot_connect"))
        #expect(try Self.document(json)["error"]?["socket"] == .string(socket))

        // A stale socket file (a daemon that died) is the same.
        let daemon = try Daemon()
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: daemon.socketPath))
        let stale = try Self.shardctl(daemon, "ping")
        #expect(stale.status == 2 && stale.stderr.contains("no shardd listening at \(daemon.socketPath)"), "\(stale.output)")
    }

    @Test func withoutSocketTheEnvironmentThenShardsConfDecide() throws {
        let daemon = try Daemon()
        // ./shards.conf of the working directory names shardd.sock, relative to it.
        let fromConfig = try Self.shardctl(["ping"], in: daemon.directory.path)
        #expect(fromConfig.status == 0 && fromConfig.stdout.hasPrefix("pong ("), "\(fromConfig.output)")
        // SHARDD_SOCKET wins over ./shards.conf.
        let elsewhere = TemporaryDirectory()
        try "[server]\nsocket = \"other.sock\"\n".write(toFile: elsewhere.path + "/shards.conf", atomically: true, encoding: .utf8)
        let fromEnvironment = try Self.shardctl(["ping"], in: elsewhere.path, environment: ["SHARDD_SOCKET": daemon.socketPath])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.output)")
        let fromOtherConfig = try Self.shardctl(["ping"], in: elsewhere.path)
        #expect(fromOtherConfig.status == 2 && fromOtherConfig.stderr.contains("no shardd listening at \(elsewhere.path)/other.sock"),
                "\(fromOtherConfig.output)")
        #expect(daemon.stop() == 0)
    }

    @Test func helpListsTheSubcommandsAndEachSubcommandsOptions() throws {
        let root = try Self.shardctl(["--help"])
        #expect(root.status == 0, "\(root.output)")
        for name in ["shards", "sessions", "keys", "stats", "transactions", "placement", "rebalance", "verify", "ping", "get", "query", "count"] {
            #expect(root.stdout.contains("\n  \(name) "), "\(name) is not listed: \(root.stdout)")
        }
        #expect(root.stdout.contains("Exit status"))
        // One line per subcommand: the abstracts fit beside the names.
        let listing = try #require(root.stdout.components(separatedBy: "SUBCOMMANDS:\n").last?.components(separatedBy: "\n\n").first)
        #expect(listing.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) } == [
            "shards", "sessions", "keys", "stats", "transactions", "reload", "config", "placement", "rebalance", "move", "jobs", "verify", "ping", "get", "query", "count", "watch",
        ], "\(listing)")

        let options: [String: [String]] = [
            "shards": [], "sessions": [], "stats": [], "transactions": [], "ping": [], "reload": [], "config": [],
            "keys": ["--session <n>", "--model <model>", "--limit <n>"],
            "get": ["<model>", "<pk>", "--shard <shard>"],
            "query": ["<model>", "--where <json>", "--order-by <columns>", "--limit <n>", "--offset <n>", "--shard <shard>", "--page-size <n>", "--after <cursor>"],
            "watch": ["<model>", "--where <json>", "--events <kinds>", "--count <n>"],
            "count": ["<model>", "--where <json>", "--shard <shard>"],
        ]
        for (name, own) in options {
            for help in [try Self.shardctl([name, "--help"]), try Self.shardctl(["help", name])] {
                #expect(help.status == 0, "\(name): \(help.output)")
                for option in own + ["--socket <path>", "--json", "--help"] {
                    #expect(help.stdout.contains(option), "\(name) --help does not mention \(option): \(help.stdout)")
                }
            }
        }
    }
}

extension ShardctlTests {
    @Test func reloadPrintsWhatChangedOrEachRefusedKeyAndConfigMarksEachSetting() throws {
        let daemon = try Daemon(config: TestConfig.weather(server: "request_timeout_ms = 20000"))
        let file = daemon.directory.path + "/shards.conf"
        let same = try Self.shardctl(daemon, "reload")
        #expect(same.status == 0 && same.stdout == "shards.conf is unchanged: configuration version 1\n", "\(same.output)")

        try TestConfig.weather(server: "request_timeout_ms = 20000\nmax_result_rows = 50\npool_size_is_not_a_server_key = 1")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let broken = try Self.shardctl(daemon, "reload")
        #expect(broken.status == 1, "\(broken.output)")
        #expect(broken.stderr.hasPrefix("error[bad_config]: shards.conf was not applied (configuration version 1 kept):\n  server.pool_size_is_not_a_server_key: unknown key"), "\(broken.stderr)")

        try TestConfig.weather(server: "request_timeout_ms = 20000\nmax_result_rows = 50\nsocket = \"elsewhere.sock\"")
            .replacingOccurrences(of: "socket = \"shardd.sock\"\n", with: "").write(toFile: file, atomically: true, encoding: .utf8)
        let restart = try Self.shardctl(daemon, "reload")
        #expect(restart.status == 1 && restart.stderr.contains("\n  server.socket: restart-only: "), "\(restart.output)")

        try TestConfig.weather(server: "request_timeout_ms = 20000\nmax_result_rows = 50").write(toFile: file, atomically: true, encoding: .utf8)
        let applied = try Self.shardctl(daemon, "reload")
        #expect(applied.status == 0 && applied.stdout == "configuration version 2 applied:\n  server.max_result_rows\n", "\(applied.output)")

        let config = try Self.shardctl(daemon, "config")
        #expect(config.status == 0, "\(config.output)")
        let lines = config.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(lines.first == ["configuration", "version", "2", "from", file], "\(config.stdout)")
        #expect(lines.contains(["server.max_result_rows", "50", "live"]) && lines.contains(["server.request_timeout_ms", "20000", "live"]))
        #expect(lines.contains(["server.socket", "\"\(daemon.socketPath)\"", "restart"]), "\(config.stdout)")
        #expect(lines.contains(["models.Report.table", "\"weather_reports\"", "fixed"]) && lines.contains(["shards.asia.pool_size", "4", "live"]))
        let json = try Self.document(try Self.shardctl(daemon, "config", "--json"))
        #expect(json["version"] == .int(2))
        #expect(daemon.stop() == 0)
    }
}
