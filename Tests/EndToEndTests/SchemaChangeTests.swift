import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

/// Changing the schema (config.md): `--check`, `migrate`, start-up, on 2 SQLite and 2
/// PostgreSQL shards, with the built binary.
@Suite struct SchemaChangeTests {
    /// Placed by explicit shard, so that every shard holds rows.
    static let item = """

        [models.Item]
        table = "items"
        id = "client"
        [models.Item.columns]
        id = "int"
        name = "text"
        kind = { type = "text", server_default = "a" }

        """

    static let shards = ["one", "two", "three", "four"]

    /// A deployment of `item` on the mixed shards, one row per shard (two on `one`), stopped.
    static func deployment(names: [String] = ["n1", "n2", "n3", "n4", "n5"]) async throws -> (TemporaryDirectory, [String: String]) {
        let environment = try await MixedShards.environment()
        let daemon = try Daemon(config: MixedShards.config + item, environment: environment)
        let client = try daemon.client()
        for (index, name) in names.enumerated() {
            let shard = shards[index % shards.count]
            let answer = try client.request(#"{"op":"add","model":"Item","shard":"\#(shard)","values":{"id":\#(index + 1),"name":"\#(name)"}}"#)
            #expect(answer["ok"] == .bool(true), "\(answer)")
        }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
        return (daemon.directory, environment)
    }

    static func write(_ models: String, to directory: TemporaryDirectory) throws {
        try (MixedShards.config + models).write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
    }

    static func shardd(_ arguments: [String], _ directory: TemporaryDirectory, _ environment: [String: String]) throws -> ProcessRun {
        try Shardd.run(arguments + ["--config", directory.path + "/shards.conf"], environment: environment)
    }

    @Test func columnsAServerDefaultAndAnIndexAreAddedToADeployment() async throws {
        let (directory, environment) = try await Self.deployment()
        let grown = Self.item.replacingOccurrences(of: #"name = "text""#, with: #"name = { type = "text", index = true }"#)
            + #"""
            note = "text"
            source = { type = "text", nullable = false, server_default = "manual" }

            """#
        try Self.write(grown, to: directory)

        let check = try Self.shardd(["--check"], directory, environment)
        #expect(check.status == 1, "\(check.output)")
        for shard in Self.shards {
            #expect(check.stdout.contains("to add: shard \(shard): model Item, column name: no index: create it"), "\(check.stdout)")
            #expect(check.stdout.contains("to add: shard \(shard): model Item, column note: missing from table items: add the column"))
            #expect(check.stdout.contains("to add: shard \(shard): model Item, column source: missing from table items: add the column (existing rows get its server_default \"manual\")"))
        }

        let dry = try Self.shardd(["migrate", "--dry-run"], directory, environment)
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.stdout.contains("shard one (sqlite), in one transaction:\n"))
        #expect(dry.stdout.contains("shard two (postgres), in one transaction:\n"))
        #expect(dry.stdout.contains(#"  ALTER TABLE "items" ADD COLUMN "source" TEXT COLLATE "C" NOT NULL DEFAULT 'manual';"#), "\(dry.stdout)")
        #expect(dry.stdout.hasSuffix("migrate --dry-run: 12 statements on 4 of 4 shards would run; nothing changed\n"), "\(dry.stdout)")
        #expect(try Self.shardd(["--check"], directory, environment).status == 1, "a dry run changes nothing")

        let migrate = try Self.shardd(["migrate"], directory, environment)
        #expect(migrate.status == 0, "\(migrate.output)")
        #expect(migrate.stdout.hasSuffix("migrate: 12 statements on 4 shards; every shard matches the models\n"), "\(migrate.stdout)")
        let after = try Self.shardd(["--check"], directory, environment)
        #expect(after.status == 0, "\(after.output)")
        let again = try Self.shardd(["migrate"], directory, environment)
        #expect(again.status == 0 && again.stdout == "migrate: every shard (4) matches the models: nothing to do\n", "\(again.output)")

        // The old rows read the server default; new rows can use the columns.
        let daemon = try Daemon(environment: environment, in: directory, keepConfig: true)
        let client = try daemon.client()
        let rows = try client.request(#"{"op":"query","model":"Item","order_by":["id"]}"#)
        let values = rows["objects"]?.arrayValue?.compactMap { $0["values"] } ?? []
        #expect(values.count == 5)
        #expect(values.allSatisfy { $0["source"] == .string("manual") && $0["note"] == .null }, "\(values)")
        let added = try client.request(#"{"op":"add","model":"Item","shard":"two","values":{"id":9,"name":"x","note":"hello"}}"#)
        #expect(added["objects"]?[0]?["values"]?["source"] == .string("manual"), "\(added)")
        #expect(added["objects"]?[0]?["values"]?["note"] == .string("hello"))
        #expect(daemon.stop() == 0)
    }

    /// Every change config.md refuses, by --check, migrate and start-up, naming shard, model
    /// and column, with no shard touched.
    @Test func changesShardddDoesNotMakeAreRefusedBeforeAnyShardIsTouched() async throws {
        let (directory, environment) = try await Self.deployment()
        let models = try String(contentsOfFile: directory.path + "/data/models.json", encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("type", Self.item.replacingOccurrences(of: #"name = "text""#, with: #"name = "int""#),
             "model Item, column name: models.Item.columns.name: type changed from text to int"),
            ("not null", Self.item.replacingOccurrences(of: #"name = "text""#, with: #"name = { type = "text", nullable = false }"#),
             "model Item, column name: models.Item.columns.name: nullable = false on an existing nullable column"),
            ("primary key", Self.item.replacingOccurrences(of: #"id = "client""#, with: "id = \"client\"\nprimary_key = [\"id\", \"kind\"]"),
             "model Item: models.Item.primary_key changed from [\"id\"] to [\"id\", \"kind\"]"),
            ("table", Self.item.replacingOccurrences(of: #"table = "items""#, with: #"table = "things""#),
             "model Item: models.Item.table changed from items to things"),
            ("id", Self.item.replacingOccurrences(of: #"id = "client""#, with: #"id = "sequence""#),
             "model Item: models.Item.id changed from \"client\" to \"sequence\""),
            ("server_default", Self.item.replacingOccurrences(of: #"server_default = "a""#, with: #"server_default = "b""#),
             "model Item, column kind: models.Item.columns.kind.server_default changed from \"a\" to \"b\""),
        ]
        for (what, models, message) in cases {
            try Self.write(models, to: directory)
            let check = try Self.shardd(["--check"], directory, environment)
            #expect(check.status == 1, "\(what): \(check.output)")
            for shard in Self.shards {
                #expect(check.stdout.contains("refused: shard \(shard): \(message)"), "\(what): \(check.stdout)")
            }
            let migrate = try Self.shardd(["migrate"], directory, environment)
            #expect(migrate.status == 1, "\(what): \(migrate.output)")
            #expect(migrate.stdout.contains("refused: shard one: \(message)"), "\(what): \(migrate.stdout)")
            #expect(migrate.stdout.contains("that shardd does not change: nothing changed on any shard"), "\(what)")
            #expect(throws: TestSetupError.self, "\(what): start-up refuses") {
                try Daemon(environment: environment, in: directory, keepConfig: true)
            }
            let log = try String(contentsOfFile: directory.path + "/shardd.log", encoding: .utf8)
            #expect(log.contains("error shardd: [shardd] shard four: \(message)"), "\(what)")
        }
        // Nothing was touched: the first models still match every shard exactly.
        try Self.write(Self.item, to: directory)
        let check = try Self.shardd(["--check"], directory, environment)
        #expect(check.status == 0, "\(check.output)")
        #expect(try String(contentsOfFile: directory.path + "/data/models.json", encoding: .utf8) == models)
    }

    @Test func aUniqueOverRepeatedValuesIsRefusedNamingTheValue() async throws {
        let (directory, environment) = try await Self.deployment(names: ["n1", "n2", "n3", "n4", "n1"])
        try Self.write(Self.item.replacingOccurrences(of: #"name = "text""#, with: #"name = { type = "text", unique = true }"#), to: directory)
        let migrate = try Self.shardd(["migrate"], directory, environment)
        #expect(migrate.status == 1, "\(migrate.output)")
        #expect(migrate.stdout.contains(#"refused: shard one: model Item, column name: models.Item.columns.name: unique = true, and rows of table items repeat the value "n1"; remove the duplicates first, or leave unique out"#), "\(migrate.stdout)")
        // The shards without duplicates were not given the index either.
        let check = try Self.shardd(["--check"], directory, environment)
        #expect(check.stdout.contains("to add: shard two: model Item, column name: no unique index: create it"), "\(check.stdout)")
    }

    /// `migrate.after_first_shard`: killed with one shard changed, a second run finishes.
    @Test func killedAfterTheFirstShardMigrateFinishesTheOthers() async throws {
        let faults = try Daemon.faultsBinary()
        let (directory, environment) = try await Self.deployment()
        try Self.write(Self.item + "note = \"text\"\n", to: directory)
        let killed = try Process.output(of: faults, ["migrate", "--config", directory.path + "/shards.conf"],
                                        environment: environment.merging(["SHARDD_FAULT": "migrate.after_first_shard"]) { $1 })
        #expect(killed.status == 128 + SIGKILL || killed.status == SIGKILL, "\(killed.output)")
        let halfway = try Self.shardd(["--check"], directory, environment)
        #expect(halfway.status == 1)
        #expect(!halfway.stdout.contains("shard one: model Item, column note"), "\(halfway.stdout)")
        for shard in ["two", "three", "four"] {
            #expect(halfway.stdout.contains("to add: shard \(shard): model Item, column note: missing from table items"), "\(halfway.stdout)")
        }
        let finish = try Self.shardd(["migrate"], directory, environment)
        #expect(finish.status == 0, "\(finish.output)")
        #expect(finish.stdout.hasSuffix("migrate: 3 statements on 3 shards (1 already matched); every shard matches the models\n"), "\(finish.stdout)")
        #expect(try Self.shardd(["--check"], directory, environment).status == 0)
    }

    /// A model added to the config gets its table on every shard at the next start; with
    /// create_tables = false the daemon refuses to start, listing what differs.
    @Test func aNewModelAppearsOnEveryShardAtTheNextStart() async throws {
        let (directory, environment) = try await Self.deployment()
        let tag = "\n[models.Tag]\nid = \"client\"\n[models.Tag.columns]\nid = \"int\"\nlabel = { type = \"text\", index = true }\n"
        try ("[server]\ncreate_tables = false\n" + MixedShards.config + Self.item + tag).write(
            toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        #expect(throws: TestSetupError.self) { try Daemon(environment: environment, in: directory, keepConfig: true) }
        let log = try String(contentsOfFile: directory.path + "/shardd.log", encoding: .utf8)
        #expect(log.contains("create_tables = false and the shards differ from the models; run shardd migrate"), "\(log)")
        #expect(log.contains("shard three: model Tag: table tag is missing: create it"), "\(log)")

        try Self.write(Self.item + tag, to: directory)
        let daemon = try Daemon(environment: environment, in: directory, keepConfig: true)
        let client = try daemon.client()
        for (index, shard) in Self.shards.enumerated() {
            let added = try client.request(#"{"op":"add","model":"Tag","shard":"\#(shard)","values":{"id":\#(index),"label":"t"}}"#)
            #expect(added["ok"] == .bool(true), "\(added)")
        }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        #expect(daemon.stop() == 0)
        #expect(try Self.shardd(["--check"], directory, environment).status == 0)
    }
}

/// `default`, `server_default` and `on_update` (config.md) through the daemon, with the
/// documented example `examples/defaults.conf`: its own SQLite shards, and its Version model
/// on 2 SQLite + 2 PostgreSQL shards.
@Suite struct ColumnDefaultTests {
    static let example = try! String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("examples/defaults.conf"), encoding: .utf8)

    enum Layout: String, CaseIterable, Sendable { case example, mixed }

    static func start(_ layout: Layout) async throws -> Daemon {
        switch layout {
        case .example:
            // The daemon of a test listens where the test looks for it.
            return try Daemon(config: example.replacingOccurrences(of: #"socket = "defaults.sock""#, with: #"socket = "shardd.sock""#))
        case .mixed:
            let models = String(example[example.range(of: "[models.Version]")!.lowerBound...])
            return try Daemon(config: MixedShards.config + models, environment: try await MixedShards.environment())
        }
    }

    static func timestamp(_ value: JSONValue?) throws -> Timestamp {
        guard case .string(let text)? = value else { throw TestSetupError("not a timestamp: \(String(describing: value))") }
        return try Timestamp(rfc3339: text)
    }

    @Test(arguments: Layout.allCases)
    func defaultsFillAddsAndOnUpdateMovesWithTheWrites(_ layout: Layout) async throws {
        let daemon = try await Self.start(layout)
        let client = try daemon.client()
        let before = Timestamp.wallClock()
        let added = try client.request(#"{"op":"add","model":"Version","rows":[{"name":"a"},{"name":"b"},{"name":"c","revision":7,"status":"final"}]}"#)
        let after = Timestamp.wallClock()
        let objects = try #require(added["objects"]?.arrayValue, "\(added)")
        #expect(objects.count == 3)
        let values = objects.compactMap { $0["values"] }
        // default: one instant for every row of the add, from the daemon's clock.
        let updated = try values.map { try Self.timestamp($0["time_updated"]) }
        #expect(Set(updated).count == 1)
        #expect(updated[0] >= before && updated[0] <= after)
        // server_default: the shard's values, in the answer.
        #expect(values.map { $0["status"] } == [.string("draft"), .string("draft"), .string("final")])
        #expect(values.map { $0["revision"] } == [.int(1), .int(1), .int(7)])
        for value in values {
            let created = try Self.timestamp(value["time_created"])
            // The shard's clock (SQLite's to the millisecond): within a second of the daemon's.
            #expect(abs(created.microseconds - updated[0].microseconds) < 1_000_000, "\(value)")
        }
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))

        // on_update: update moves it forward; a request that sets it wins.
        let key = try #require(objects[0]["key"])
        usleep(2_000)
        let changed = try client.request(#"{"op":"update","key":\#(key),"values":{"status":"final"}}"#)
        let moved = try Self.timestamp(changed["object"]?["values"]?["time_updated"])
        #expect(moved > updated[0], "\(changed)")
        #expect(changed["object"]?["values"]?["time_created"] == values[0]["time_created"])
        let pinned = try client.request(#"{"op":"update","key":\#(key),"values":{"time_updated":"2020-01-01T00:00:00Z"}}"#)
        #expect(pinned["ok"] == .bool(true), "\(pinned)")
        let fetched = try client.request(#"{"op":"get","model":"Version","pk":\#(key[1]?[0] ?? .null),"shard":\#(key[2] ?? .null),"fresh":true}"#)
        #expect(fetched["object"]?["values"]?["time_updated"] == .string("2020-01-01T00:00:00Z"), "\(fetched)")

        // update_where: the rows it matches move; the others keep theirs.
        usleep(2_000)
        let bulk = try client.request(#"{"op":"update_where","model":"Version","where":{"status":"draft"},"values":{"revision":2}}"#)
        #expect(bulk["count"] == .int(1), "\(bulk)")
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let rows = try daemon.client().request(#"{"op":"query","model":"Version","order_by":["name"]}"#)
        let now = try #require(rows["objects"]?.arrayValue?.compactMap { $0["values"] })
        #expect(now.map { $0["name"] } == [.string("a"), .string("b"), .string("c")])
        #expect(now[0]["time_updated"] == .string("2020-01-01T00:00:00Z"), "a is final now: update_where left it")
        #expect(try Self.timestamp(now[1]["time_updated"]) > updated[0], "b matched")
        #expect(now[1]["revision"] == .int(2))
        #expect(try Self.timestamp(now[2]["time_updated"]) == updated[0], "c was final: untouched")
        #expect(daemon.stop() == 0)
    }
}
