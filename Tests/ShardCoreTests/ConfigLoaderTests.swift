import Foundation
import Testing

@testable import ShardCore
import ShardProtocol

/// config.md's weather example (the shipped default; `DefaultConfigurationTests` keeps them equal).
private let weatherExample = DefaultConfiguration.text

/// Two shards and one plain model; tests append to it or replace parts of it.
private let shardsAB = """
    [shards.a]
    url = "sqlite:a.db"
    [shards.b]
    url = "sqlite:b.db"

    """

private let itemModel = """
    [models.Item]
    [models.Item.columns]
    id = "int"
    name = "text"

    """

private let base = "/srv/shardd"

private func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigError) -> Configuration {
    try ConfigLoader.parse(text, file: "shards.conf", baseDirectory: base, environment: environment)
}

/// The issue lines (`key.path: message`) of a config that must fail.
private func problems(_ text: String, environment: [String: String] = [:]) -> [String] {
    do throws(ConfigError) {
        _ = try parse(text, environment: environment)
        Issue.record("expected the configuration to be refused")
        return []
    } catch {
        return error.messages
    }
}

@Suite struct ConfigLoaderTests {
    // MARK: Valid configurations

    @Test func weatherExampleLoads() throws {
        let config = try parse(weatherExample)
        #expect(config.file == "shards.conf")
        #expect(config.shards.map(\.name) == ["north_america", "asia", "europe", "south_america"])
        #expect(config.shards[1] == ShardSpec(name: "asia", location: .sqlite(path: "/srv/shardd/data/asia.db"), poolSize: 4))
        #expect(config.server == ServerSettings(socket: "/srv/shardd/shardd.sock", stateDir: "/srv/shardd/data"))

        #expect(config.models.map(\.name) == ["WeatherLocation", "Report"])
        let location = try #require(config.model(named: "WeatherLocation"))
        #expect(location.table == "weather_locations")
        #expect(location.id == .sequence)
        #expect(location.primaryKey == ["id"])
        #expect(location.columns == [
            Column(name: "id", type: .int, nullable: false),
            Column(name: "continent", type: .text, nullable: false),
            Column(name: "city", type: .text, nullable: false),
        ])
        #expect(location.shardBy == .map(column: "continent", map: [
            .text("North America"): "north_america", .text("Asia"): "asia",
            .text("Europe"): "europe", .text("South America"): "south_america",
        ], defaultShard: nil))
        #expect(location.relationships == [Relationship(name: "reports", model: "Report", foreignKey: "location_id", kind: .toMany)])

        let report = try #require(config.model(named: "Report"))
        #expect(report.table == "weather_reports")
        #expect(report.id == .shardLocal)
        #expect(report.shardBy == .parent(model: "WeatherLocation", via: "location_id"))
        #expect(report.columns.map(\.name) == ["id", "location_id", "temperature", "report_time"])
        #expect(report.column(named: "location_id") == Column(name: "location_id", type: .int, nullable: false, index: true))
        #expect(report.column(named: "temperature") == Column(name: "temperature", type: .real))
        #expect(report.column(named: "report_time")?.type == .timestamp)
        #expect(report.relationships == [Relationship(name: "location", model: "WeatherLocation", foreignKey: "location_id", kind: .toOne)])
    }

    @Test func theEmbeddedDefaultLoads() throws {
        let config = try parse(DefaultConfiguration.text)
        #expect(config.shards.map(\.name) == ["north_america", "asia", "europe", "south_america"])
    }

    @Test func everyServerSetting() throws {
        let config = try parse("""
            [server]
            socket = "./run//shardd.sock"
            socket_mode = "660"
            allowed_uids = [1000, 0]
            admin_uids = []
            state_dir = "/var/lib/shardd/"
            create_tables = false
            commit = "two_phase"
            allow_raw_sql = true
            max_line_bytes = 2048
            max_connections = 16
            max_result_rows = 500
            identity_map_limit = 7
            request_timeout_ms = 1000
            idle_transaction_timeout_ms = 2000
            """ + "\n" + shardsAB + itemModel)
        #expect(config.server == ServerSettings(
            socket: "/srv/shardd/run/shardd.sock", socketMode: 0o660, allowedUIDs: [1000, 0], adminUIDs: [],
            stateDir: "/var/lib/shardd", createTables: false, commit: .twoPhase, allowRawSQL: true,
            maxLineBytes: 2048, maxConnections: 16, maxResultRows: 500, identityMapLimit: 7,
            requestTimeoutMs: 1000, idleTransactionTimeoutMs: 2000))
        let fourDigits = try parse("[server]\nsocket_mode = \"0640\"\n" + shardsAB + itemModel)
        #expect(fourDigits.server.socketMode == 0o640)
        #expect(fourDigits.server.allowedUIDs == nil)
    }

    @Test func fileOrderIsKeptForShardsModelsColumnsAndRelationships() throws {
        let config = try parse("""
            [shards.zulu]
            url = "postgresql://u:pw@db1/x"
            [shards.alpha]
            url = "postgres:///x?host=/run/postgresql"
            pool_size = 2
            [shards.mike]
            url = "sqlite:/abs/m.db"

            [models.Zebra]
            [models.Zebra.columns]
            zz = "int"
            id = "int"
            aa = "text"
            [models.Zebra.relationships.zoo]
            model = "Apple"
            foreign_key = "zebra_id"
            [models.Zebra.relationships.apples]
            model = "Apple"
            foreign_key = "other_zebra"

            [models.Apple]
            columns = { id = "int", zebra_id = "int", other_zebra = "int" }
            """)
        #expect(config.shards.map(\.name) == ["zulu", "alpha", "mike"])
        #expect(config.shards.map(\.location) == [
            .postgres(uri: "postgresql://u:pw@db1/x"), .postgres(uri: "postgres:///x?host=/run/postgresql"), .sqlite(path: "/abs/m.db"),
        ])
        #expect(config.shards.map(\.poolSize) == [8, 2, 4])
        #expect(config.models.map(\.name) == ["Zebra", "Apple"])
        #expect(config.models[0].columns.map(\.name) == ["zz", "id", "aa"])
        #expect(config.models[0].relationships.map(\.name) == ["zoo", "apples"])
        #expect(config.models[0].table == "zebra")
    }

    @Test func defaultTableIsSnakeCaseAndIdDependsOnTheKey() throws {
        let config = try parse(shardsAB + """
            [models.HTTPLog]
            columns = { id = "int" }
            [models.WeatherLocation]
            columns = { id = "int" }
            [models.Tag]
            primary_key = ["name"]
            columns = { name = "text" }
            [models.Pair]
            primary_key = ["a", "b"]
            columns = { a = "int", b = "int" }
            """)
        #expect(config.models.map(\.table) == ["http_log", "weather_location", "tag", "pair"])
        #expect(config.models.map(\.id) == [.sequence, .sequence, .client, .client])
        #expect(config.model(named: "Pair")?.columns.map(\.nullable) == [false, false])
    }

    @Test func shardByForms() throws {
        let config = try parse(shardsAB + """
            [models.ByInt]
            shard_by = { column = "region", map = { "1" = "a", "-2" = "b" }, default = "b" }
            columns = { id = "int", region = "int" }
            [models.ByHash]
            shard_by = { column = "user", hash = true }
            columns = { id = "int", user = "text" }
            [models.ByRange]
            shard_by = { column = "created", ranges = [[2020-01-01T00:00:00Z, "2021-01-01T00:00:00Z", "a"], [2021-01-01T01:00:00+01:00, 2030-01-01T00:00:00.5Z, "b"]] }
            columns = { id = "int", created = "timestamp" }
            [models.ByReal]
            shard_by = { column = "x", ranges = [[0, 0.5, "a"], [0.5, 1e3, "b"]] }
            columns = { id = "int", x = "real" }
            [models.ByBool]
            shard_by = { column = "flag", map = { "true" = "a", "false" = "b" } }
            columns = { id = "int", flag = "bool" }
            """)
        #expect(config.model(named: "ByInt")?.shardBy == .map(column: "region", map: [.int(1): "a", .int(-2): "b"], defaultShard: "b"))
        #expect(config.model(named: "ByHash")?.shardBy == .hash(column: "user", buckets: HashBuckets(count: 2048, shards: ["a", "b"])))
        let y2020 = try Timestamp(rfc3339: "2020-01-01T00:00:00Z"), y2021 = try Timestamp(rfc3339: "2021-01-01T00:00:00Z")
        let y2030 = try Timestamp(rfc3339: "2030-01-01T00:00:00.5Z")
        #expect(config.model(named: "ByRange")?.shardBy == .ranges(column: "created", ranges: [
            ShardRange(lower: .timestamp(y2020), upper: .timestamp(y2021), shard: "a"),
            ShardRange(lower: .timestamp(y2021), upper: .timestamp(y2030), shard: "b"),
        ]))
        #expect(config.model(named: "ByReal")?.shardBy == .ranges(column: "x", ranges: [
            ShardRange(lower: .real(0), upper: .real(0.5), shard: "a"), ShardRange(lower: .real(0.5), upper: .real(1000), shard: "b"),
        ]))
        #expect(config.model(named: "ByBool")?.shardBy == .map(column: "flag", map: [.bool(true): "a", .bool(false): "b"], defaultShard: nil))
        #expect(config.model(named: "ByBool")?.id == .sequence)
    }

    @Test func sequenceShardAndClientIds() throws {
        let config = try parse(shardsAB + """
            [models.Item]
            id = "sequence"
            sequence_shard = "b"
            columns = { id = "int" }
            [models.Code]
            id = "client"
            primary_key = ["code"]
            columns = { code = "text" }
            """)
        #expect(config.model(named: "Item")?.sequenceShard == "b")
        #expect(config.model(named: "Code")?.id == .client)
        #expect(config.model(named: "Code")?.shardBy == nil)
    }

    // MARK: Environment and files

    @Test func urlEnvComesFromTheEnvironmentParameter() throws {
        let text = """
            [shards.asia]
            url_env = "SHARDD_ASIA_URL"
            [shards.europe]
            url = "sqlite:e.db"
            """ + "\n" + itemModel
        let config = try parse(text, environment: ["SHARDD_ASIA_URL": "postgresql://app:s3cret@db/asia"])
        #expect(config.shards[0] == ShardSpec(
            name: "asia", location: .postgres(uri: "postgresql://app:s3cret@db/asia"), poolSize: 8, urlEnv: "SHARDD_ASIA_URL"))
        #expect(problems(text) == [
            "shards.asia.url_env: environment variable SHARDD_ASIA_URL is not set; it must hold the shard's URL (valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\")",
        ])
        #expect(problems(text, environment: ["SHARDD_ASIA_URL": ""]) == [
            "shards.asia.url_env: environment variable SHARDD_ASIA_URL is empty; it must hold the shard's URL (valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\")",
        ])
        let bad = problems(text, environment: ["SHARDD_ASIA_URL": "mysql://app:s3cret@db/asia"])
        #expect(bad == [
            "shards.asia.url_env: the value of SHARDD_ASIA_URL \"mysql://app:***@db/asia\" is not a shard URL (valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\")",
        ])
        #expect(!bad.joined().contains("s3cret"))
    }

    @Test func relativePathsResolveAgainstTheFilesDirectory() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("shardd-config-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/shards.conf"
        try ("[shards.x]\nurl = \"sqlite:data/x.db\"\n" + itemModel).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(FileManager.default.currentDirectoryPath != directory)

        let config = try ConfigLoader.load(path: file, environment: [:])
        #expect(config.file == file)
        #expect(config.shards == [ShardSpec(name: "x", location: .sqlite(path: directory + "/data/x.db"), poolSize: 4)])
        #expect(config.server.socket == directory + "/shardd.sock")
        #expect(config.server.stateDir == directory + "/data")
    }

    @Test func theDefaultEnvironmentIsTheProcessEnvironment() {
        #expect(ConfigLoader.processEnvironment() == ProcessInfo.processInfo.environment)
    }

    @Test func directoryAndNonUTF8File() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("shardd-config-\(UInt64.random(in: 0...UInt64.max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do throws(ConfigError) {
            _ = try ConfigLoader.load(path: directory)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(directory): cannot read: Is a directory")
        }
        let file = directory + "/latin1.conf"
        try Data([0x23, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: file))
        do throws(ConfigError) {
            _ = try ConfigLoader.load(path: file)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "\(file): cannot read: not UTF-8 text (TOML files are UTF-8)")
        }
    }

    @Test func unreadableFile() {
        do throws(ConfigError) {
            _ = try ConfigLoader.load(path: "/nonexistent/dir/shards.conf", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/dir/shards.conf: cannot read: No such file or directory")
        }
    }

    @Test func syntaxErrorHasLineAndColumn() {
        let text = shardsAB + "[models.Item]\ncolumns = { id = \"int\" \n"
        do throws(ConfigError) {
            _ = try parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.line == 6)
            #expect(error.issues.first?.column == 24)
            #expect(error.description.hasPrefix("shards.conf:6:24: "))
            #expect(error.description.contains("inline table"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func pathsAreNormalised() {
        #expect(ConfigLoader.resolve("./data//x.db", against: "/srv/app/") == "/srv/app/data/x.db")
        #expect(ConfigLoader.resolve("/abs/./y.db", against: "/srv") == "/abs/y.db")
        #expect(ConfigLoader.resolve("../up.db", against: "/srv") == "/srv/../up.db")
        #expect(ConfigLoader.resolve("x", against: "/") == "/x")
        #expect(ConfigLoader.absoluteDirectory(of: "/etc/shards.conf") == "/etc")
        #expect(ConfigLoader.absoluteDirectory(of: "/shards.conf") == "/")
        #expect(ConfigLoader.snakeCase("WeatherLocation") == "weather_location")
        #expect(ConfigLoader.snakeCase("HTTPLog") == "http_log")
        #expect(ConfigLoader.snakeCase("Report2Card") == "report2_card")
        #expect(ConfigLoader.snakeCase("already_snake") == "already_snake")
    }

    // MARK: Broken configurations

    @Test func allMistakesAreReportedTogetherInFileOrder() {
        #expect(problems("""
            [shards.a]
            url = "sqlite:a.db"
            pool_size = 0
            [shards.b]
            url = "sqlite:b.db"

            [models.First]
            columns = { id = "int", kind = "txt" }

            [models.Second]
            columns = { id = "int", first_id = "int" }
            [models.Second.relationships.first]
            model = "Frist"
            foreign_key = "first_id"
            """) == [
            "shards.a.pool_size: must be at least 1, got 0",
            "models.First.columns.kind: \"txt\" is not a column type (types: int, real, text, bool, timestamp)",
            "models.Second.relationships.first.model: \"Frist\" is not a model (models: First, Second)",
        ])
    }

    @Test func errorDescriptionIsOneLinePerIssue() {
        do throws(ConfigError) {
            _ = try parse("[server]\ncommit = \"sometimes\"\nmax_connections = -1\n" + shardsAB + itemModel)
            Issue.record("expected an error")
        } catch {
            #expect(error.description == """
                shards.conf: server.commit: "sometimes" is not a commit mode (valid: "best_effort", "two_phase")
                shards.conf: server.max_connections: must be at least 1, got -1
                """)
            #expect(error.issues == [
                ConfigError.Issue(path: "server.commit", message: "\"sometimes\" is not a commit mode (valid: \"best_effort\", \"two_phase\")"),
                ConfigError.Issue(path: "server.max_connections", message: "must be at least 1, got -1"),
            ])
        }
    }

    @Test func configMdExampleMessage() {
        let text = weatherExample.replacingOccurrences(of: "parent = \"WeatherLocation\"", with: "parent = \"Location\"")
        #expect(problems(text) == [
            "models.Report.shard_by.parent: \"Location\" is not a model (models: WeatherLocation, Report)",
        ])
    }

    @Test func unknownKeysEverywhere() {
        #expect(problems("""
            version = 1
            [server]
            sockets = "x"
            [shards.a]
            url = "sqlite:a.db"
            weight = 2
            [models.Item]
            tabel = "items"
            shard_by = { column = "name", hash = true, seed = 3 }
            columns = { id = "int", name = { type = "text", nulable = false } }
            [models.Item.relationships.self_ref]
            model = "Item"
            foreign_key = "id"
            kind = "one"
            """) == [
            "version: unknown top-level key (valid keys: server, shards, models)",
            "server.sockets: unknown key (valid keys in [server]: socket, socket_mode, allowed_uids, admin_uids, state_dir, create_tables, commit, allow_raw_sql, max_line_bytes, max_connections, max_result_rows, identity_map_limit, request_timeout_ms, idle_transaction_timeout_ms, move_pause_ms, move_switch_timeout_ms, metrics_listen, metrics_public)",
            "shards.a.weight: unknown key (valid keys in [shards.a]: url, url_env, pool_size, drain)",
            "models.Item.tabel: unknown key (valid keys in [models.Item]: table, primary_key, id, sequence_shard, shard_by, columns, relationships)",
            "models.Item.columns.name.nulable: unknown key (valid keys in a column: type, nullable, unique, index, default, server_default, on_update)",
            "models.Item.shard_by.seed: unknown key (valid keys in shard_by, whose forms are { column, map, default? }, { column, hash = true, buckets? }, { column, ranges }, { parent, via }: column, map, default, hash, buckets, ranges, parent, via)",
            "models.Item.relationships.self_ref.kind: unknown key (valid keys in a relationship: model, foreign_key)",
        ])
    }

    @Test func serverMistakes() {
        #expect(problems("""
            [server]
            socket = 3
            socket_mode = 600
            allowed_uids = [-1, "root", 1000]
            admin_uids = "0"
            state_dir = ""
            create_tables = "yes"
            identity_map_limit = 0
            request_timeout_ms = 1.5
            """ + "\n" + shardsAB + itemModel) == [
            "server.socket: expected a string, got an integer",
            "server.socket_mode: expected a string of 3 or 4 octal digits like \"0600\", got an integer",
            "server.allowed_uids[0]: -1 is not a uid (valid: 0 to 4294967294)",
            "server.allowed_uids[1]: expected an integer, got a string",
            "server.admin_uids: expected an array, got a string",
            "server.state_dir: must not be empty (a path, relative to the file's directory or absolute)",
            "server.create_tables: expected a boolean, got a string",
            "server.identity_map_limit: must be at least 1, got 0",
            "server.request_timeout_ms: expected an integer, got a float",
        ])
    }

    /// Clients read `[server] socket` by `SocketPath`'s rule, without a TOML parser: a file
    /// they would misread is refused, so that they never look for the socket elsewhere.
    @Test func socketMustBeWrittenSoThatClientsReadTheSamePath() throws {
        #expect(problems("server = { socket = \"run/x.sock\" }\n" + shardsAB + itemModel) == [
            "server.socket: write it as socket = \"...\" on one line of [server] (a basic or literal string): clients read the socket path from shards.conf by that rule, and would read none (so they would use shardd.sock)",
        ])
        #expect(problems("[server]\nsocket = \"\"\"\nrun/x.sock\"\"\"\n" + shardsAB + itemModel).first?.hasPrefix("server.socket: write it as socket") == true)
        #expect(problems("[server]\nsocket = \"a\\u0062.sock\"\n" + shardsAB + itemModel) == [
            "server.socket: write it as socket = \"...\" on one line of [server] (a basic or literal string): clients read the socket path from shards.conf by that rule, and would read \"au0062.sock\"",
        ])
        // The forms the rule reads are accepted, and name the same file for both.
        for form in ["[server]\nsocket = \"run/x.sock\"\n", "[server]\n  socket='run/x.sock' # here\n", "server.socket = \"run/x.sock\"\n"] {
            let config = try parse(form + shardsAB + itemModel)
            #expect(config.server.socket == "/srv/shardd/run/x.sock", "\(form)")
            #expect(SocketPath.serverSocket(inTOML: form) == "run/x.sock", "\(form)")
        }
    }

    @Test func socketModeForms() {
        #expect(problems("[server]\nsocket_mode = \"0900\"\n" + shardsAB + itemModel) == [
            "server.socket_mode: \"0900\" is not an octal mode (expected a string of 3 or 4 octal digits like \"0600\")",
        ])
        #expect(problems("[server]\nsocket_mode = \"60\"\n" + shardsAB + itemModel) == [
            "server.socket_mode: \"60\" is not an octal mode (expected a string of 3 or 4 octal digits like \"0600\")",
        ])
        #expect(problems("[server]\nsocket_mode = \"4755\"\n" + shardsAB + itemModel) == [
            "server.socket_mode: \"4755\" sets setuid, setgid or sticky bits, which mean nothing for a socket (expected permission bits like \"0600\" or \"0660\")",
        ])
    }

    @Test func emptyAllowedUIDsAndLongSocket() {
        let long = String(repeating: "s", count: 120)
        #expect(problems("[server]\nallowed_uids = []\nsocket = \"/\(long)\"\n" + shardsAB + itemModel) == [
            "server.allowed_uids: is empty: every peer would be refused; omit allowed_uids to allow only the daemon's own uid",
            "server.socket: \"/\(long)\" is 121 bytes long; a Unix socket path holds at most \(ConfigLoader.Validator.maxSocketPathBytes) (choose a shorter path)",
        ])
        #expect(problems("[server]\nsocket = \"/\(long)\"\n" + shardsAB + itemModel) == [
            "server.socket: \"/\(long)\" is 121 bytes long; a Unix socket path holds at most \(ConfigLoader.Validator.maxSocketPathBytes) (choose a shorter path)",
        ])
    }

    @Test func missingSections() {
        #expect(problems("") == [
            "shards: missing: at least one shard is required (e.g. [shards.main] url = \"sqlite:data/main.db\")",
            "models: missing: at least one model is required (e.g. [models.Item.columns] id = \"int\")",
        ])
        #expect(problems("shards = {}\nmodels = {}\n") == [
            "shards: at least one shard is required (e.g. [shards.main] url = \"sqlite:data/main.db\")",
            "models: at least one model is required (e.g. [models.Item.columns] id = \"int\")",
        ])
        #expect(problems("server = 1\nshards = []\n" + itemModel) == [
            "server: expected a table, got an integer",
            "shards: expected a table, got an array",
        ])
    }

    @Test func shardNamesAndUrls() {
        #expect(problems("""
            [shards.Asia]
            url = "sqlite:asia.db"
            [shards.both]
            url = "sqlite:x.db"
            url_env = "X"
            [shards.neither]
            pool_size = 2
            [shards.mysql]
            url = "mysql://root:hunter2@db/app"
            [shards.memory]
            url = "sqlite::memory:"
            [shards.empty]
            url = "sqlite:"
            [shards.slashes]
            url = "sqlite://data/x.db"
            [shards.bare]
            url = "data/x.db"
            [shards.zero]
            url = "sqlite:z.db"
            pool_size = 0
            [shards.twin]
            url = "sqlite:./asia.db"
            """ + "\n" + itemModel) == [
            "shards.Asia: \"Asia\" is not a valid shard name (expected [a-z][a-z0-9_]*: a lowercase letter, then lowercase letters, digits or _)",
            "shards.both: gives both url and url_env; give exactly one",
            "shards.neither: missing url: give url = \"sqlite:PATH\" or \"postgresql://...\", or url_env = \"VARIABLE\"",
            "shards.mysql.url: url \"mysql://root:***@db/app\" is not a shard URL (valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\")",
            "shards.memory.url: url \"sqlite::memory:\" has no database file: each pooled connection would get a database of its own; give a file, e.g. \"sqlite:data/shard.db\"",
            "shards.empty.url: url \"sqlite:\" has no database file: each pooled connection would get a database of its own; give a file, e.g. \"sqlite:data/shard.db\"",
            "shards.slashes.url: url \"sqlite://data/x.db\" is ambiguous: write sqlite:PATH, e.g. \"sqlite:data/shard.db\" (relative to the file's directory) or \"sqlite:/var/lib/shardd/shard.db\"",
            "shards.bare.url: url \"data/x.db\" is not a shard URL (valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\")",
            "shards.zero.pool_size: must be at least 1, got 0",
        ])
    }

    @Test func twoShardsOnOneDatabase() {
        #expect(problems("""
            [shards.one]
            url = "sqlite:data/x.db"
            [shards.two]
            url = "sqlite:./data//x.db"
            """ + "\n" + itemModel) == [
            "shards.two.url: names the same database as shard one; each shard needs a database of its own",
        ])
    }

    @Test func passwordsNeverAppear() {
        let messages = problems("[shards.a]\nurl = \"user:hunter2@db\"\n" + itemModel)
        #expect(messages == ["shards.a.url: url \"user:...\" is not a shard URL (valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\")"])
    }

    @Test func modelNameAndTableMistakes() {
        #expect(problems(shardsAB + """
            [models."Bad-Name"]
            columns = { id = "int" }
            [models.Item]
            table = "items"
            columns = { id = "int" }
            [models.Other]
            table = "ITEMS"
            columns = { id = "int" }
            [models.Items]
            columns = { id = "int" }
            [models.Spaced]
            table = "my table"
            columns = { id = "int" }
            [models.Internal]
            table = "shardd_sequences"
            columns = { id = "int" }
            [models.NotATable]
            table = ["x"]
            columns = { id = "int" }
            [models.Scalar]
            """ + "\n") == [
            "models.Bad-Name: \"Bad-Name\" is not a valid model name (expected [A-Za-z_][A-Za-z0-9_]*)",
            "models.Other.table: \"ITEMS\" is already the table of model Item; each model needs its own table",
            "models.Items: the default table name \"items\" is already the table of model Item; each model needs its own table (set table = \"...\")",
            "models.Spaced.table: \"my table\" is not a valid table name (expected [A-Za-z_][A-Za-z0-9_]*)",
            "models.Internal.table: \"shardd_sequences\" is reserved (tables starting shardd_, _shardd_ or sqlite_ belong to shardd and SQLite); choose another name",
            "models.NotATable.table: expected a string, got an array",
            "models.Scalar.columns: missing: a model needs at least one column (e.g. [models.Scalar.columns] id = \"int\")",
        ])
        #expect(problems("models = { Flat = 3 }\n" + shardsAB) == ["models.Flat: expected a table, got an integer"])
    }

    @Test func columnMistakes() {
        #expect(problems(shardsAB + """
            [models.Item]
            [models.Item.columns]
            id = "int"
            price = "float"
            name = { nullable = false }
            "two words" = "text"
            Name = "text"
            flag = { type = "bool", index = "yes" }
            count = 3
            """ + "\n") == [
            "models.Item.columns.price: \"float\" is not a column type (types: int, real, text, bool, timestamp)",
            "models.Item.columns.name: missing type (types: int, real, text, bool, timestamp), e.g. { type = \"text\", nullable = false }",
            "models.Item.columns.\"two words\": \"two words\" is not a valid column name (expected [A-Za-z_][A-Za-z0-9_]*)",
            "models.Item.columns.Name: \"Name\" and \"name\" differ only in case; SQL databases take them for the same column",
            "models.Item.columns.flag.index: expected a boolean, got a string",
            "models.Item.columns.count: expected a type name such as \"text\" or a table { type = \"text\", nullable = false }, got an integer",
        ])
        #expect(problems(shardsAB + "[models.Item.columns]\n") == [
            "models.Item.columns: a model needs at least one column (e.g. [models.Item.columns] id = \"int\")",
        ])
    }

    @Test func primaryKeyMistakes() {
        #expect(problems(shardsAB + """
            [models.NoId]
            columns = { code = "text" }
            [models.Unknown]
            primary_key = ["code", "id", "code"]
            columns = { id = "int" }
            [models.Empty]
            primary_key = []
            columns = { id = "int" }
            [models.Nullable]
            columns = { id = { type = "int", nullable = true } }
            [models.NotList]
            primary_key = "id"
            columns = { id = "int" }
            """ + "\n") == [
            "models.NoId.primary_key: the default primary key [\"id\"] is not a column of NoId (columns: code); add an id column or set primary_key",
            "models.Unknown.primary_key[0]: \"code\" is not a column of Unknown (columns: id)",
            "models.Unknown.primary_key[2]: \"code\" is not a column of Unknown (columns: id)",
            "models.Empty.primary_key: must name at least one column (columns: id)",
            "models.Nullable.columns.id.nullable: a primary-key column cannot be nullable (primary key: [id])",
            "models.NotList.primary_key: expected an array, got a string",
        ])
        #expect(problems(shardsAB + "[models.Twice]\nprimary_key = [\"id\", \"id\"]\ncolumns = { id = \"int\" }\n") == [
            "models.Twice.primary_key[1]: \"id\" is listed twice",
        ])
    }

    @Test func idStrategyMistakes() {
        #expect(problems(shardsAB + """
            [models.Uuid]
            id = "uuid"
            columns = { id = "int" }
            [models.TextKey]
            id = "sequence"
            columns = { id = "text" }
            [models.Composite]
            id = "shard_local"
            primary_key = ["a", "b"]
            columns = { a = "int", b = "int" }
            [models.Counter]
            id = "client"
            sequence_shard = "a"
            columns = { id = "int" }
            [models.Where]
            sequence_shard = "c"
            columns = { id = "int" }
            """ + "\n") == [
            "models.Uuid.id: \"uuid\" is not an id strategy (valid: \"sequence\", \"shard_local\", \"client\")",
            "models.TextKey.id: \"sequence\" needs a single int primary-key column, but id is text (use id = \"client\")",
            "models.Composite.id: \"shard_local\" needs a single int primary-key column, but the primary key is [a int, b int] (use id = \"client\")",
            "models.Counter.sequence_shard: only with id = \"sequence\" (this model's id is \"client\")",
            "models.Where.sequence_shard: \"c\" is not a shard (shards: a, b)",
        ])
    }

    @Test func shardByFormMistakes() {
        #expect(problems(shardsAB + """
            [models.Mixed]
            shard_by = { column = "name", hash = true, map = { x = "a" } }
            columns = { id = "int", name = "text" }
            [models.None]
            shard_by = { column = "name" }
            columns = { id = "int", name = "text" }
            [models.Stray]
            shard_by = { column = "name", hash = true, via = "id" }
            columns = { id = "int", name = "text" }
            [models.NoColumn]
            shard_by = { hash = true }
            columns = { id = "int" }
            [models.Typo]
            shard_by = { column = "nmae", hash = true }
            columns = { id = "int", name = "text" }
            [models.Scalar]
            shard_by = "name"
            columns = { id = "int", name = "text" }
            """ + "\n") == [
            "models.Mixed.shard_by: mixes the map and hash forms; give exactly one of { column, map, default? }, { column, hash = true, buckets? }, { column, ranges }, { parent, via }",
            "models.None.shard_by: says neither map, hash, ranges nor parent; give exactly one of the forms { column, map, default? }, { column, hash = true, buckets? }, { column, ranges }, { parent, via }",
            "models.Stray.shard_by.via: is not a key of the hash form { column, hash = true, buckets? }",
            "models.NoColumn.shard_by: the hash form needs column: { column, hash = true, buckets? }",
            "models.Typo.shard_by.column: \"nmae\" is not a column of Typo (columns: id, name)",
            "models.Scalar.shard_by: expected a table, got a string",
        ])
    }

    @Test func mapAndHashMistakes() {
        #expect(problems(shardsAB + """
            [models.Region]
            shard_by = { column = "region", map = { "1" = "a", "one" = "b", "01" = "b", "2" = "c" }, default = "z" }
            columns = { id = "int", region = "int" }
            [models.Empty]
            shard_by = { column = "k", map = {} }
            columns = { id = "int", k = "text" }
            [models.When]
            shard_by = { column = "at", map = { "yesterday" = "a" } }
            columns = { id = "int", at = "timestamp" }
            [models.Flag]
            shard_by = { column = "f", map = { "yes" = "a" } }
            columns = { id = "int", f = "bool" }
            [models.Off]
            shard_by = { column = "id", hash = false }
            columns = { id = "int" }
            [models.Float]
            shard_by = { column = "x", hash = true }
            columns = { id = "int", x = "real" }
            """ + "\n") == [
            "models.Region.shard_by.map.one: \"one\" is not an integer (column region is int; expected decimal digits like \"42\")",
            "models.Region.shard_by.map.01: is the same int value as \"1\" (1)",
            "models.Region.shard_by.map.2: \"c\" is not a shard (shards: a, b)",
            "models.Region.shard_by.default: \"z\" is not a shard (shards: a, b)",
            "models.Empty.shard_by.map: is empty; give at least one entry such as { \"value\" = \"a\" }",
            "models.When.shard_by.map.yesterday: \"yesterday\" is not an RFC 3339 timestamp (expected a digit); expected e.g. \"2026-11-21T09:30:00.250Z\" (column at is timestamp)",
            "models.Flag.shard_by.map.yes: \"yes\" is not a boolean (column f is bool; expected \"true\" or \"false\")",
            "models.Off.shard_by.hash: must be true (to place rows only by an explicit shard, leave shard_by out)",
            "models.Float.shard_by.column: \"x\" is real; a hash needs an exact value (int, text, bool or timestamp): use ranges for a real column",
        ])
    }

    @Test func rangesMistakes() {
        #expect(problems(shardsAB + """
            [models.Num]
            shard_by = { column = "n", ranges = [[0, 100, "a"], [50, 150, "b"], [10, 5, "a"], ["x", 200, "b"], [300, 400], [400, 500, "c"]] }
            columns = { id = "int", n = "int" }
            [models.Local]
            shard_by = { column = "at", ranges = [[1979-05-27T07:32:00, 2000-01-01T00:00:00Z, "a"]] }
            columns = { id = "int", at = "timestamp" }
            [models.Truth]
            shard_by = { column = "f", ranges = [[false, true, "a"]] }
            columns = { id = "int", f = "bool" }
            [models.None]
            shard_by = { column = "t", ranges = [] }
            columns = { id = "int", t = "text" }
            """ + "\n") == [
            "models.Num.shard_by.ranges[1]: [50, 150) overlaps ranges[0] [0, 100)",
            "models.Num.shard_by.ranges[2]: lo 10 is not below hi 5 (a range is [lo, hi), lo < hi)",
            "models.Num.shard_by.ranges[3][0]: expected an integer (column n is int), got a string",
            "models.Num.shard_by.ranges[4]: expected [lo, hi, \"shard\"], got an array of 2",
            "models.Num.shard_by.ranges[5][2]: \"c\" is not a shard (shards: a, b)",
            "models.Local.shard_by.ranges[0][0]: a date-time without an offset is not an instant; add Z or an offset like +01:00 (column at is timestamp)",
            "models.Truth.shard_by.column: \"f\" is bool, which has no ranges; use map",
            "models.None.shard_by.ranges: is empty; give half-open ranges [[lo, hi, \"a\"], ...]",
        ])
    }

    @Test func parentMistakes() {
        #expect(problems(shardsAB + """
            [models.Owner]
            columns = { id = "int" }
            [models.Pair]
            primary_key = ["a", "b"]
            columns = { a = "int", b = "int" }
            [models.TextParent]
            primary_key = ["code"]
            columns = { code = "text" }
            [models.Self]
            shard_by = { parent = "Self", via = "id" }
            columns = { id = "int" }
            [models.WrongType]
            shard_by = { parent = "TextParent", via = "owner" }
            columns = { id = "int", owner = "int" }
            [models.Composite]
            shard_by = { parent = "Pair", via = "pair" }
            columns = { id = "int", pair = "int" }
            [models.NoVia]
            shard_by = { parent = "Owner", via = "owner_id" }
            columns = { id = "int" }
            [models.Half]
            shard_by = { parent = "Owner" }
            columns = { id = "int" }
            """ + "\n") == [
            "models.Self.shard_by.parent: a model cannot be its own parent (models: Owner, Pair, TextParent, WrongType, Composite, NoVia, Half)",
            "models.WrongType.shard_by.via: \"owner\" is int but TextParent's primary key code is text; they must be the same type",
            "models.Composite.shard_by.parent: Pair has the composite primary key [a, b]; a parent needs a single-column primary key",
            "models.NoVia.shard_by.via: \"owner_id\" is not a column of NoVia (columns: id)",
            "models.Half.shard_by: the parent form needs via: { parent, via }",
        ])
    }

    @Test func parentCyclesAreReportedOnce() {
        #expect(problems(shardsAB + """
            [models.Lead]
            shard_by = { parent = "A", via = "a_id" }
            columns = { id = "int", a_id = "int" }
            [models.A]
            shard_by = { parent = "B", via = "b_id" }
            columns = { id = "int", b_id = "int" }
            [models.B]
            shard_by = { parent = "C", via = "c_id" }
            columns = { id = "int", c_id = "int" }
            [models.C]
            shard_by = { parent = "A", via = "a_id" }
            columns = { id = "int", a_id = "int" }
            """ + "\n") == [
            "models.A.shard_by.parent: parent rules form a cycle: A -> B -> C -> A; one of them must be placed another way",
        ])
    }

    @Test func shardLocalKeyCannotChooseTheShard() {
        #expect(problems(shardsAB + """
            [models.Item]
            id = "shard_local"
            shard_by = { column = "id", hash = true }
            columns = { id = "int" }
            """ + "\n") == [
            "models.Item.shard_by.column: \"id\" is made by the shard itself (id = \"shard_local\"), so it cannot choose the shard",
        ])
    }

    @Test func relationshipMistakes() {
        #expect(problems(shardsAB + """
            [models.Author]
            columns = { id = "int", name = "text" }
            [models.Author.relationships.books]
            model = "Book"
            foreign_key = "writer_id"
            [models.Author.relationships.name]
            model = "Book"
            foreign_key = "author_id"
            [models.Author.relationships."bad name"]
            model = "Book"
            foreign_key = "author_id"
            [models.Author.relationships.missing]
            foreign_key = "author_id"
            [models.Book]
            primary_key = ["isbn"]
            columns = { isbn = "text", author_id = "text", editor = "int" }
            [models.Book.relationships.author]
            model = "Author"
            foreign_key = "author_id"
            [models.Book.relationships.editor_of]
            model = "Editor"
            foreign_key = "editor"
            [models.Book.relationships.flat]
            model = 3
            foreign_key = "editor"
            """ + "\n") == [
            "models.Author.relationships.books.foreign_key: \"writer_id\" is neither a column of Author (columns: id, name) nor of Book (columns: isbn, author_id, editor)",
            "models.Author.relationships.name: \"name\" is also a column of Author; a relationship needs a name of its own",
            "models.Author.relationships.name.foreign_key: Book.author_id is text but Author's primary key id is int; they must be the same type",
            "models.Author.relationships.\"bad name\": \"bad name\" is not a valid relationship name (expected [A-Za-z_][A-Za-z0-9_]*)",
            "models.Author.relationships.\"bad name\".foreign_key: Book.author_id is text but Author's primary key id is int; they must be the same type",
            "models.Author.relationships.missing: missing model: { model = \"Other\", foreign_key = \"column\" }",
            "models.Book.relationships.author.foreign_key: \"author_id\" is text but Author's primary key id is int; they must be the same type",
            "models.Book.relationships.editor_of.model: \"Editor\" is not a model (models: Author, Book)",
            "models.Book.relationships.flat.model: expected a string, got an integer",
        ])
    }

    @Test func relationshipToCompositeKey() {
        #expect(problems(shardsAB + """
            [models.Pair]
            primary_key = ["a", "b"]
            columns = { a = "int", b = "int" }
            [models.Pair.relationships.items]
            model = "Item"
            foreign_key = "pair_id"
            [models.Item]
            columns = { id = "int", pair_id = "int" }
            [models.Item.relationships.pair]
            model = "Pair"
            foreign_key = "pair_id"
            """ + "\n") == [
            "models.Pair.relationships.items.foreign_key: a to-many relationship from Pair needs a single-column primary key on Pair, which has [a, b]",
            "models.Item.relationships.pair.foreign_key: a to-one relationship to Pair needs a single-column primary key on Pair, which has [a, b]",
        ])
    }

    // MARK: Column defaults

    @Test func columnDefaultsLoad() throws {
        let config = try parse(shardsAB + """
            [models.Version]
            [models.Version.columns]
            id = "int"
            status = { type = "text", server_default = "draft" }
            word = { type = "text", default = "now" }
            revision = { type = "int", default = -1 }
            weight = { type = "real", server_default = 2 }
            public = { type = "bool", default = true }
            since = { type = "timestamp", server_default = "2026-01-01T00:00:00Z" }
            time_created = { type = "timestamp", server_default = "now" }
            time_updated = { type = "timestamp", default = "now", on_update = "now" }
            """)
        let version = try #require(config.model(named: "Version"))
        #expect(version.column(named: "status")?.serverDefault == .value(.text("draft")))
        #expect(version.column(named: "word")?.defaultValue == .value(.text("now")), "\"now\" is only the clock for timestamps")
        #expect(version.column(named: "revision")?.defaultValue == .value(.int(-1)))
        #expect(version.column(named: "weight")?.serverDefault == .value(.real(2)))
        #expect(version.column(named: "public")?.defaultValue == .value(.bool(true)))
        #expect(version.column(named: "since")?.serverDefault == .value(.timestamp(Timestamp(microseconds: 1_767_225_600_000_000))))
        #expect(version.column(named: "time_created")?.serverDefault == .now)
        #expect(version.column(named: "time_updated") == Column(name: "time_updated", type: .timestamp, defaultValue: .now, onUpdateNow: true))
    }

    @Test func wrongColumnDefaultsNameTheirKeyPath() {
        #expect(problems(shardsAB + """
            [models.Version]
            [models.Version.columns]
            id = "int"
            a = { type = "int", default = "1" }
            b = { type = "int", server_default = "now" }
            c = { type = "bool", default = "now" }
            d = { type = "text", on_update = "now" }
            e = { type = "timestamp", on_update = "later" }
            f = { type = "timestamp", default = "yesterday" }
            g = { type = "int", default = 1.5 }
            h = { type = "real", server_default = [1] }
            """) == [
            "models.Version.columns.a.default: not an int value: expected an integer, got the string \"1\"",
            "models.Version.columns.b.server_default: \"now\" is the clock, for timestamp columns only; b is int: give a literal int value",
            "models.Version.columns.c.default: \"now\" is the clock, for timestamp columns only; c is bool: give a literal bool value",
            "models.Version.columns.d.on_update: on_update = \"now\" needs a timestamp column; d is text",
            "models.Version.columns.e.on_update: \"later\" is not an on_update value: the only one is \"now\" (the daemon's clock at the update)",
            "models.Version.columns.f.default: not a timestamp value: \"yesterday\" is not an RFC 3339 timestamp (expected a digit); expected e.g. \"2026-11-21T09:30:00.250Z\"",
            "models.Version.columns.g.default: not an int value: expected an integer, got 1.5",
            "models.Version.columns.h.server_default: expected a real value, got an array",
        ])
    }
}
