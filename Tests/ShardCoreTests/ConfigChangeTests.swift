import Testing

@testable import ShardCore
import ShardProtocol

/// What a reload applies and refuses (protocol.md 14), worked out from two configurations.
@Suite struct ConfigChangeTests {
    private let weather = DefaultConfiguration.text

    private func load(_ text: String) throws -> Configuration {
        try ConfigLoader.parse(text, file: "shards.conf", baseDirectory: "/srv/shardd", environment: [:])
    }

    /// The change from the weather example to `edit` of it.
    private func change(_ edit: (String) -> String) throws -> ConfigChange {
        ConfigChange.between(try load(weather), try load(edit(weather)))
    }

    private func serverKey(_ line: String) -> (String) -> String {
        { $0.replacing("state_dir = \"data\"", with: "state_dir = \"data\"\n\(line)") }
    }

    @Test func everyServerKeyTheLoaderTakesIsComparedAndListed() {
        let keys = ConfigListing.serverValues(ServerSettings(socket: "s", stateDir: "d")).map(\.key)
        #expect(Set(keys) == Set(ConfigLoader.Validator.serverKeys) && keys.count == Set(keys).count, "a [server] key a reload would not see change")
    }

    @Test func theSameFileChangesNothing() throws {
        let none = try change { $0 }
        #expect(none.isEmpty && none.applied.isEmpty && none.refused.isEmpty)
    }

    @Test func limitsUidsAndTimeoutsApplyLive() throws {
        for (line, path) in [("max_result_rows = 5", "server.max_result_rows"), ("admin_uids = [0, 1000]", "server.admin_uids"),
                             ("allowed_uids = [4242]", "server.allowed_uids"), ("request_timeout_ms = 100", "server.request_timeout_ms"),
                             ("idle_transaction_timeout_ms = 7", "server.idle_transaction_timeout_ms"), ("allow_raw_sql = true", "server.allow_raw_sql"),
                             ("move_pause_ms = 10", "server.move_pause_ms"), ("max_connections = 3", "server.max_connections")] {
            let applied = try change(serverKey(line))
            #expect(applied.applied == [path] && applied.refused.isEmpty, "\(line)")
        }
    }

    @Test func restartOnlyServerKeysAreRefusedOneByOne() throws {
        for (line, path) in [("socket = \"other.sock\"", "server.socket"), ("socket_mode = \"0660\"", "server.socket_mode"),
                             ("metrics_listen = \"127.0.0.1:9187\"", "server.metrics_listen"), ("commit = \"best_effort\"", "server.commit")] {
            let edit: (String) -> String = line.hasPrefix("socket =")
                ? { $0.replacing("socket = \"shardd.sock\"", with: line) } : serverKey(line)
            let refused = try change(edit)
            #expect(refused.refused.map(\.path) == [path], "\(line)")
            #expect(refused.refused.first?.reason.hasPrefix("restart-only") == true)
        }
        let stateDir = try change { $0.replacing("state_dir = \"data\"", with: "state_dir = \"elsewhere\"") }
        #expect(stateDir.refused.map(\.path) == ["server.state_dir"])
    }

    @Test func aNewShardAPoolSizeAndDrainApply() throws {
        let added = try change { $0.replacing("[shards.asia]", with: "[shards.oceania]\nurl = \"sqlite:data/oceania.db\"\n[shards.asia]") }
        #expect(added.applied == ["shards.oceania"] && added.addedShards == ["oceania"] && added.refused.isEmpty)
        let tuned = try change { $0.replacing("url = \"sqlite:data/asia.db\"", with: "url = \"sqlite:data/asia.db\"\npool_size = 9\ndrain = true")
            .replacing("\"Asia\" = \"asia\"", with: "\"Asia\" = \"europe\"") }
        #expect(tuned.applied == ["shards.asia.pool_size", "shards.asia.drain", "models.WeatherLocation.shard_by"])
    }

    @Test func aShardsURLIsRefusedAndARemovedShardIsLeftToTheDaemonToCheck() throws {
        let moved = try change { $0.replacing("sqlite:data/asia.db", with: "sqlite:data/asia2.db") }
        #expect(moved.refused.map(\.path) == ["shards.asia.url"])
        #expect(moved.refused.first?.reason.contains("move this one's units") == true)
        let removed = try change { $0.replacing("[shards.south_america]\nurl = \"sqlite:data/south_america.db\"\n", with: "")
            .replacing(", \"South America\" = \"south_america\"", with: "") }
        #expect(removed.removedShards == ["south_america"] && removed.refused.isEmpty)
    }

    @Test func newModelsColumnsAndDefaultsApply() throws {
        let model = try change { $0 + "\n[models.Note]\n[models.Note.columns]\nid = \"int\"\nbody = \"text\"\n" }
        #expect(model.applied == ["models.Note"])
        let column = try change { $0.replacing("temperature = \"real\"", with: "temperature = \"real\"\nhumidity = \"real\"") }
        #expect(column.applied == ["models.Report.columns.humidity"])
        let indexed = try change { $0.replacing("temperature = \"real\"", with: "temperature = { type = \"real\", index = true, default = 20.5 }") }
        #expect(indexed.applied == ["models.Report.columns.temperature"] && indexed.refused.isEmpty)
        let mapEdit = try change { $0.replacing("\"South America\" = \"south_america\"", with: "\"South America\" = \"europe\"") }
        #expect(mapEdit.applied == ["models.WeatherLocation.shard_by"] && mapEdit.refused.isEmpty)
    }

    @Test func whatTheRowsDependOnIsRefusedNamingTheKeyPath() throws {
        let cases: [((String) -> String, String)] = [
            ({ $0.replacing("table = \"weather_reports\"", with: "table = \"reports\"") }, "models.Report.table"),
            ({ $0.replacing("id = \"shard_local\"", with: "id = \"sequence\"") }, "models.Report.id"),
            ({ $0.replacing("temperature = \"real\"", with: "temperature = \"text\"") }, "models.Report.columns.temperature.type"),
            ({ $0.replacing("temperature = \"real\"", with: "temperature = { type = \"real\", nullable = false }") },
             "models.Report.columns.temperature.nullable"),
            ({ $0.replacing("temperature = \"real\"", with: "temperature = { type = \"real\", server_default = 1.5 }") },
             "models.Report.columns.temperature.server_default"),
            ({ $0.replacing("shard_by = { column = \"continent\", map", with: "shard_by = { column = \"city\", map") }, "models.WeatherLocation.shard_by"),
        ]
        for (edit, path) in cases {
            let refused = try change(edit)
            #expect(refused.refused.map(\.path).contains(path), "\(path): \(refused.refused)")
        }
        // A model gone: the reverse of adding one.
        let withNote = weather + "\n[models.Note]\n[models.Note.columns]\nid = \"int\"\n"
        let gone = ConfigChange.between(try load(withNote), try load(weather))
        #expect(gone.refused.map(\.path) == ["models.Note"])
    }

    @Test func aHashRulesDefaultBucketCountFollowsTheShardsAndIsNoChange() throws {
        let hashed = weather.replacing("shard_by = { column = \"continent\", map = { \"North America\" = \"north_america\", \"Asia\" = \"asia\", \"Europe\" = \"europe\", \"South America\" = \"south_america\" } }",
                                       with: "shard_by = { column = \"city\", hash = true }")
        let more = hashed.replacing("[shards.asia]", with: "[shards.oceania]\nurl = \"sqlite:data/oceania.db\"\n[shards.asia]")
        let added = ConfigChange.between(try load(hashed), try load(more))
        #expect(added.applied == ["shards.oceania"] && added.refused.isEmpty)
        let counted = ConfigChange.between(try load(hashed), try load(hashed.replacing("hash = true", with: "hash = true, buckets = 64")))
        #expect(counted.refused.map(\.path) == ["models.WeatherLocation.shard_by.buckets"])
    }

    @Test func listenAddresses() {
        #expect(ListenAddress(parsing: "127.0.0.1:9187") == ListenAddress(host: "127.0.0.1", port: 9187))
        #expect(ListenAddress(parsing: "[::1]:9187") == ListenAddress(host: "::1", port: 9187))
        #expect(ListenAddress(parsing: "[::1]:9187")?.description == "[::1]:9187")
        for bad in ["9187", "localhost", "host:0", "host:70000", "::1:9187", ":9187", "[::1]9187"] {
            #expect(ListenAddress(parsing: bad) == nil, "\(bad)")
        }
        #expect(ListenAddress(parsing: "localhost:1")!.isLoopback && ListenAddress(parsing: "127.0.0.2:1")!.isLoopback)
        #expect(!ListenAddress(parsing: "0.0.0.0:9187")!.isLoopback && !ListenAddress(parsing: "10.0.0.1:9187")!.isLoopback)
    }

    @Test func aPublicMetricsAddressNeedsMetricsPublic() throws {
        let open = weather.replacing("state_dir = \"data\"", with: "state_dir = \"data\"\nmetrics_listen = \"0.0.0.0:9187\"")
        do {
            _ = try load(open)
            Issue.record("accepted")
        } catch let error as ConfigError {
            #expect(error.messages.first?.hasPrefix("server.metrics_listen: \"0.0.0.0:9187\" is reachable from other machines") == true, "\(error)")
        }
        let allowed = try load(open.replacing("metrics_listen", with: "metrics_public = true\nmetrics_listen"))
        #expect(allowed.server.metricsListen == ListenAddress(host: "0.0.0.0", port: 9187) && allowed.server.metricsPublic)
        do {
            _ = try load(weather.replacing("state_dir = \"data\"", with: "state_dir = \"data\"\nmetrics_listen = \"localhost\""))
            Issue.record("accepted")
        } catch let error as ConfigError {
            #expect(error.messages.first?.hasPrefix("server.metrics_listen: \"localhost\" is not HOST:PORT") == true, "\(error)")
        }
    }

    @Test func theListingMarksEachSettingAndRedactsPasswords() throws {
        let text = weather.replacing("url = \"sqlite:data/asia.db\"", with: "url = \"postgresql://shardd:secret@db:5432/asia\"")
        let listing = ConfigListing(try load(text)).settings
        let byKey = Dictionary(uniqueKeysWithValues: listing.map { ($0.key, $0) })
        #expect(byKey["server.max_result_rows"]?.reload == .live && byKey["server.max_result_rows"]?.value == "10000")
        #expect(byKey["server.socket"]?.reload == .restart && byKey["server.metrics_listen"]?.reload == .restart)
        #expect(byKey["shards.asia.pool_size"]?.reload == .live && byKey["shards.asia.url"]?.reload == .restart)
        #expect(byKey["shards.asia.url"]?.value.contains("secret") == false)
        #expect(byKey["models.Report.table"]?.reload == .fixed && byKey["models.Report.columns.temperature"]?.reload == .live)
        #expect(!listing.contains { $0.value.contains("secret") })
    }
}
