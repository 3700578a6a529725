import Foundation
import Glibc
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// shards.conf read again while the daemon serves (protocol.md 14): what applies live, what
/// is refused with the running configuration kept, and a session's transaction carried across.
@Suite struct ReloadTests {
    /// The weather example with europe on PostgreSQL.
    static func config() -> String {
        DefaultConfiguration.text.replacingOccurrences(of: "url = \"sqlite:data/europe.db\"", with: "url_env = \"SHARDD_EUROPE_URL\"")
    }

    static let note = """

        [models.Note]
        table = "notes"
        id = "sequence"
        shard_by = { column = "continent", map = { "North America" = "north_america", "Asia" = "asia", "Europe" = "europe", "South America" = "europe" } }
        [models.Note.columns]
        id = "int"
        continent = { type = "text", nullable = false }
        body = "text"

        """

    private func write(_ text: String, _ daemon: Daemon) throws {
        try text.write(toFile: daemon.directory.path + "/shards.conf", atomically: true, encoding: .utf8)
    }

    private func reload(_ client: LineClient) throws -> JSONValue {
        try client.request(#"{"op":"reload"}"#)
    }

    @Test func aReloadAppliesLiveChangesWhileATransactionStaysOpen() async throws {
        let environment = ["SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL(), "SHARDD_OCEANIA_URL": try await TestPostgres.freshSchemaURL()]
        let daemon = try Daemon(config: Self.config(), environment: environment)
        let admin = try daemon.client(), session = try daemon.client()
        _ = try admin.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Tokyo"}}"#)
        for t in 1...4 { _ = try admin.request(#"{"op":"add","model":"Report","values":{"location_id":1,"temperature":\#(t)}}"#) }
        #expect(try admin.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(try admin.request(#"{"op":"hello"}"#)["config_version"] == .int(1))
        // A transaction open across the reload, on a SQLite and a PostgreSQL shard.
        _ = try session.request(#"{"op":"add","model":"WeatherLocation","rows":[{"continent":"Asia","city":"Osaka"},{"continent":"Europe","city":"Oslo"}]}"#)

        // 1. Limits, uids, a drained shard, a new shard.
        let own = getuid()
        var text = Self.config()
            .replacingOccurrences(of: "state_dir = \"data\"", with: "state_dir = \"data\"\nmax_result_rows = 3\nadmin_uids = [\(own), 4242]")
            .replacingOccurrences(of: "[shards.south_america]\nurl = \"sqlite:data/south_america.db\"", with: "[shards.south_america]\nurl = \"sqlite:data/south_america.db\"\ndrain = true")
            .replacingOccurrences(of: "\"South America\" = \"south_america\"", with: "\"South America\" = \"europe\"")
        text += "\n[shards.oceania]\nurl_env = \"SHARDD_OCEANIA_URL\"\npool_size = 2\n"
        try write(text, daemon)
        let applied = try reload(admin)
        #expect(applied["version"] == .int(2), "\(applied)")
        #expect(applied["changed"] == .array([
            "server.admin_uids", "server.max_result_rows", "shards.south_america.drain", "shards.oceania", "models.WeatherLocation.shard_by",
        ].map(JSONValue.string)))
        #expect(daemon.log().contains("reload (reload op): configuration version 2 applied: server.admin_uids, server.max_result_rows"))
        #expect(try admin.request(#"{"op":"hello"}"#)["config_version"] == .int(2))
        let placement = try admin.request(#"{"op":"placement"}"#)
        #expect(placement["config_version"] == .int(2))
        let differs = try #require(placement["differs"].flatMap { if case .array(let a) = $0 { a } else { nil } })
        #expect(differs.contains { $0["group"] == .string("WeatherLocation") && $0["now"] == .string("south_america") && $0["wanted"] == .string("europe") }, "\(placement)")
        // The new shard: connected, prepared, owns nothing.
        let shards = try admin.request(#"{"op":"shards"}"#)
        #expect(shards["config_version"] == .int(2))
        let oceania = try #require(shards["shards"].flatMap { if case .array(let a) = $0 { a.first { $0["name"] == .string("oceania") } } else { nil } })
        #expect(oceania["status"] == .string("up") && oceania["backend"] == .string("postgres"), "\(oceania)")
        #expect(oceania["pool"]?["size"] == .int(2))
        #expect(oceania["rows"]?["WeatherLocation"] == .int(0) && oceania["rows"]?["Report"] == .int(0), "\(oceania)")
        #expect(try admin.request(#"{"op":"query","model":"Report"}"#)["error"]?["code"] == .string("result_too_large"))
        let config = try admin.request(#"{"op":"config"}"#)
        #expect(config["version"] == .int(2))
        let settings = try #require(config["settings"].flatMap { if case .array(let a) = $0 { a } else { nil } })
        #expect(settings.contains { $0["key"] == .string("server.max_result_rows") && $0["value"] == .string("3") && $0["reload"] == .string("live") })
        // The session's transaction was carried across, and commits on both shards.
        let committed = try session.request(#"{"op":"commit"}"#)
        #expect(committed["shards"] == .array([.string("asia"), .string("europe")]), "\(committed)")
        #expect(try session.request(#"{"op":"count","model":"WeatherLocation"}"#)["count"] == .int(3))

        // 2. A new column and a new model, with a transaction open on the PostgreSQL shard.
        _ = try session.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Bergen"}}"#)
        text = text.replacingOccurrences(of: "temperature = \"real\"", with: "temperature = \"real\"\nhumidity = \"real\"") + Self.note
        try write(text, daemon)
        let migrated = try reload(admin)
        #expect(migrated["changed"] == .array([.string("models.Report.columns.humidity"), .string("models.Note")]), "\(migrated)")
        let report = try admin.request(#"{"op":"add","model":"Report","values":{"location_id":1,"temperature":5,"humidity":0.5}}"#)
        #expect(report["objects"]?[0]?["values"]?["humidity"] == .double(0.5), "\(report)")
        _ = try admin.request(#"{"op":"add","model":"Note","values":{"continent":"Europe","body":"hello"}}"#)
        #expect(try admin.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let notes = try admin.request(#"{"op":"query","model":"Note","where":{"continent":"Europe"}}"#)
        #expect(notes["objects"]?[0]?["values"]?["body"] == .string("hello") && notes["shards"] == .array([.string("europe")]), "\(notes)")
        let inspection = try ShardInspection(daemon)
        for shard in ["north_america", "asia", "europe", "south_america", "oceania"] {
            #expect(try await inspection.count(shard, "SELECT count(humidity) FROM weather_reports") >= 0, "\(shard)")
            #expect(try await inspection.count(shard, "SELECT count(*) FROM notes") == (shard == "europe" ? 1 : 0), "\(shard)")
        }
        #expect(try session.request(#"{"op":"commit"}"#)["shards"] == .array([.string("europe")]))

        // 3. A column to add on a SQLite shard whose write lock an open transaction holds:
        // refused as a whole, and applied once the transaction has ended.
        _ = try session.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Kyoto"}}"#)
        text = text.replacingOccurrences(of: "body = \"text\"", with: "body = \"text\"\nauthor = \"text\"")
        try write(text, daemon)
        let locked = try reload(admin)
        #expect(locked["error"]?["code"] == .string("bad_config"), "\(locked)")
        #expect(locked["error"]?["message"]?.stringValue?.contains("locked by an open transaction") == true, "\(locked)")
        #expect(try admin.request(#"{"op":"hello"}"#)["config_version"] == .int(3))
        #expect(try session.request(#"{"op":"commit"}"#)["shards"] == .array([.string("asia")]))
        #expect(try reload(admin)["changed"] == .array([.string("models.Note.columns.author")]))

        // allowed_uids: the next connection is refused, the open ones carry on.
        try write(text.replacingOccurrences(of: "max_result_rows = 3", with: "max_result_rows = 3\nallowed_uids = [4242]"), daemon)
        #expect(try reload(admin)["version"] == .int(5))
        let refused = try daemon.client().receiveLine() ?? ""
        #expect(refused.contains("\"forbidden\""), "\(refused)")
        #expect(try session.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        try write(text, daemon)
        #expect(try reload(admin)["changed"] == .array([.string("server.allowed_uids")]))
        #expect(try daemon.client().request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        // The same file again: nothing changes, the version stays.
        let same = try reload(admin)
        #expect(same["version"] == .int(6) && same["changed"] == .array([]), "\(same)")
        #expect(daemon.stop() == 0)
    }

    @Test func eachRestartOnlyOrForbiddenChangeIsRefusedAndTheOldVersionServes() async throws {
        let environment = ["SHARDD_EUROPE_URL": try await TestPostgres.freshSchemaURL()]
        let base = Self.config() + TestConfig.station
        let daemon = try Daemon(config: base, environment: environment)
        let client = try daemon.client()
        _ = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Europe","city":"Oslo"}}"#)
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let cases: [(String, String)] = [
            (base.replacingOccurrences(of: "socket = \"shardd.sock\"", with: "socket = \"other.sock\""), "server.socket"),
            (base.replacingOccurrences(of: "state_dir = \"data\"", with: "state_dir = \"data\"\nsocket_mode = \"0660\""), "server.socket_mode"),
            (base.replacingOccurrences(of: "state_dir = \"data\"", with: "state_dir = \"data2\""), "server.state_dir"),
            (base.replacingOccurrences(of: "state_dir = \"data\"", with: "state_dir = \"data\"\nmetrics_listen = \"127.0.0.1:1\""), "server.metrics_listen"),
            (base.replacingOccurrences(of: "table = \"weather_reports\"", with: "table = \"reports\""), "models.Report.table"),
            (base.replacingOccurrences(of: "primary_key = [\"code\"]", with: "primary_key = [\"code\", \"name\"]"), "models.Station.primary_key"),
            (base.replacingOccurrences(of: "id = \"shard_local\"", with: "id = \"client\""), "models.Report.id"),
            (base.replacingOccurrences(of: "shard_by = { column = \"continent\", map = { \"North America\" = \"north_america\", \"Asia\" = \"asia\", \"Europe\" = \"europe\", \"South America\" = \"south_america\" } }",
                                       with: "shard_by = { column = \"continent\", hash = true }"), "models.WeatherLocation.shard_by"),
            (base.replacingOccurrences(of: "shard_by = { column = \"continent\", map", with: "shard_by = { column = \"city\", map"), "models.WeatherLocation.shard_by"),
            (base.replacingOccurrences(of: "url_env = \"SHARDD_EUROPE_URL\"", with: "url = \"sqlite:data/europe.db\""), "shards.europe.url"),
            (base.replacingOccurrences(of: "[shards.europe]\nurl_env = \"SHARDD_EUROPE_URL\"\n", with: "")
                .replacingOccurrences(of: "\"Europe\" = \"europe\", ", with: ""), "shard europe"),
        ]
        for (text, path) in cases {
            try write(text, daemon)
            let refused = try reload(client)
            #expect(refused["error"]?["code"] == .string("bad_config"), "\(path): \(refused)")
            #expect(refused["error"]?["version"] == .int(1), "\(path)")
            var errors: [String] = []
            if case .array(let list)? = refused["error"]?["errors"] { errors = list.compactMap(\.stringValue) }
            #expect(errors.contains { $0.contains(path) }, "\(path): \(errors)")
            // Still serving, at version 1, the row where it was.
            #expect(try client.request(#"{"op":"hello"}"#)["config_version"] == .int(1))
            #expect(try client.request(#"{"op":"count","model":"WeatherLocation"}"#)["count"] == .int(1))
        }
        #expect(daemon.log().contains("reload (reload op) refused, configuration version 1 kept: server.socket: restart-only"))
        #expect(daemon.stop() == 0)
    }

    @Test func aBrokenFileIsRefusedBySIGHUPAndByTheOpAndTheDaemonServesOn() throws {
        let daemon = try Daemon()
        let client = try daemon.client()
        try "[server\nsocket = ".write(toFile: daemon.directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let refused = try reload(client)
        #expect(refused["error"]?["code"] == .string("bad_config"), "\(refused)")
        var errors: [String] = []
        if case .array(let list)? = refused["error"]?["errors"] { errors = list.compactMap(\.stringValue) }
        #expect(errors.count >= 1 && errors.first?.first?.isNumber == true, "a syntax error names its line: \(errors)")
        Glibc.kill(daemon.process.processIdentifier, SIGHUP)
        var logged = false
        for _ in 0..<300 where !logged {
            usleep(10_000)
            logged = daemon.log().contains("reload (SIGHUP) refused, configuration version 1 kept")
        }
        #expect(logged, "\(daemon.log())")
        #expect(daemon.process.isRunning)
        #expect(try client.request(#"{"op":"ping"}"#)["pong"] == .bool(true))
        #expect(try daemon.client().request(#"{"op":"hello"}"#)["config_version"] == .int(1))
        // Fixed: SIGHUP applies it.
        try TestConfig.weather(server: "max_result_rows = 7").write(toFile: daemon.directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        Glibc.kill(daemon.process.processIdentifier, SIGHUP)
        var version: JSONValue?
        for _ in 0..<300 where version != .int(2) {
            usleep(10_000)
            version = try client.request(#"{"op":"hello"}"#)["config_version"]
        }
        #expect(version == .int(2))
        #expect(daemon.log().contains("reload (SIGHUP): configuration version 2 applied: server.max_result_rows"))
        #expect(daemon.stop() == 0)
    }
}

extension ReloadTests {
    /// A move's switch replaces the placement it started from, and a reload extends the
    /// placement: a reload while a job runs is refused, and applied once the job is done.
    @Test func aReloadIsRefusedWhileAMoveRunsAndAppliedAfterIt() async throws {
        let directory = TemporaryDirectory()
        let hold = directory.path + "/hold"
        FileManager.default.createFile(atPath: hold, contents: nil)
        let config = MoveTests.config(.sqlite)
        let daemon = try Daemon(config: config, environment: ["SHARDD_FAULT_HOLD": "move.after_copy:\(hold)"], in: directory,
                                binary: try Daemon.faultsBinary())
        let client = try daemon.client()
        try MoveTests.seed(client)
        #expect(try client.request(#"{"op":"move","model":"Report","value":"Asia","to":"europe"}"#)["job"] == .int(1))
        #expect(MoveCrashTests.holds(daemon), "\(daemon.log())")
        try (config + Self.note.replacingOccurrences(of: "\"South America\" = \"europe\"", with: "\"South America\" = \"south_america\""))
            .write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        let refused = try reload(client)
        #expect(refused["error"]?["code"] == .string("bad_config"), "\(refused)")
        #expect(refused["error"]?["message"]?.stringValue?.contains("job 1 is moving rows") == true, "\(refused)")
        try FileManager.default.removeItem(atPath: hold)
        #expect(try MoveTests.finished(client, job: 1)["state"] == .string("done"), "\(daemon.log())")
        let applied = try reload(client)
        #expect(applied["changed"] == .array([.string("models.Note")]), "\(applied)")
        // The move's placement stands after the reload: Asia's rows are on europe.
        let placement = try client.request(#"{"op":"placement","model":"Report"}"#)
        #expect(placement["groups"]?[0]?["owners"]?["Asia"] == .string("europe"), "\(placement)")
        #expect(try client.request(#"{"op":"query","model":"Report","where":{"location_id":1}}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
    }
}
