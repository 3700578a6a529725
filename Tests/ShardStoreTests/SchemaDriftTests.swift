import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

/// The comparison of models with a shard's catalog (config.md "Changing the schema"), as a
/// pure function, then on real SQLite and PostgreSQL shards.
@Suite struct SchemaDriftTests {
    static let day = Timestamp(microseconds: 1_767_225_600_000_000)  // 2026-01-01T00:00:00Z

    /// Every type, a literal and a clock default, a unique and an index.
    static let version = Model(
        name: "Version", table: "versions",
        columns: [
            Column(name: "id", type: .int, nullable: false),
            Column(name: "name", type: .text, nullable: false, unique: true),
            Column(name: "status", type: .text, nullable: false, serverDefault: .value(.text("it's a draft"))),
            Column(name: "revision", type: .int, index: true, serverDefault: .value(.int(-5))),
            Column(name: "weight", type: .real, serverDefault: .value(.real(1.5))),
            Column(name: "public", type: .bool, serverDefault: .value(.bool(true))),
            Column(name: "since", type: .timestamp, serverDefault: .value(.timestamp(day))),
            Column(name: "time_created", type: .timestamp, serverDefault: .now),
            Column(name: "time_updated", type: .timestamp, defaultValue: .now, onUpdateNow: true),
        ],
        primaryKey: ["id"], id: .sequence, shardBy: nil)

    static func with(_ model: Model, table: String? = nil, id: IdStrategy? = nil, primaryKey: [String]? = nil,
                     columns: (inout [Column]) -> Void = { _ in }) -> Model {
        var list = model.columns
        columns(&list)
        return Model(name: model.name, table: table ?? model.table, columns: list, primaryKey: primaryKey ?? model.primaryKey,
                     id: id ?? model.id, shardBy: nil)
    }

    /// The catalog a shard reports for a table made by `createStatements` (as the real
    /// shards are checked to report below).
    static func catalog(_ model: Model, _ dialect: SQLDialect) -> TableCatalog {
        TableCatalog(table: model.table, columns: model.columns.map { column in
            TableCatalog.Column(name: column.name, type: dialect.catalogType(column.type), notNull: !column.nullable,
                                defaultSQL: column.serverDefault.map { dialect.defaultSQL($0, type: column.type) },
                                primaryKeyPosition: (model.primaryKey.firstIndex(of: column.name) ?? -1) + 1)
        }, indexes: model.columns.filter { $0.unique || $0.index }.map { column in
            TableCatalog.Index(name: "\(model.table)_\(column.name)", columns: [column.name], unique: column.unique)
        })
    }

    static func drift(_ models: [Model], applied: [Model]? = nil, catalogs: [TableCatalog], dialect: SQLDialect = .sqlite,
                      duplicates: [SchemaDrift.ColumnRef: ShardValue] = [:]) -> SchemaDrift {
        SchemaDrift(shard: "asia", dialect: dialect, models: models, applied: applied.map(AppliedModels.init),
                    catalogs: Dictionary(uniqueKeysWithValues: catalogs.map { ($0.table, $0) }), duplicates: duplicates)
    }

    @Test(arguments: [SQLDialect.sqlite, .postgres])
    func aMatchingTableHasNoDifferences(_ dialect: SQLDialect) {
        let drift = Self.drift([Self.version], applied: [Self.version], catalogs: [Self.catalog(Self.version, dialect)], dialect: dialect)
        #expect(drift.differences == [])
        #expect(drift.matches)
    }

    @Test func aMissingTableIsCreatedWithItsIndexes() {
        let drift = Self.drift([Self.version], catalogs: [])
        #expect(drift.additive.count == 1)
        #expect(drift.statements == SQLDialect.sqlite.createStatements(for: Self.version))
        #expect(drift.differences[0].description == "shard asia: model Version: table versions is missing: create it")
    }

    @Test func newColumnsAndIndexesAreAdditive() {
        let before = Self.catalog(Self.version, .sqlite)
        let after = Self.with(Self.version) { columns in
            columns.append(Column(name: "humidity", type: .real))
            columns.append(Column(name: "source", type: .text, nullable: false, serverDefault: .value(.text("manual"))))
            columns.append(Column(name: "code", type: .text, unique: true))
            columns[5].index = true  // public
        }
        let drift = Self.drift([after], applied: [Self.version], catalogs: [before])
        #expect(drift.refused == [])
        #expect(drift.statements == [
            #"CREATE INDEX IF NOT EXISTS "versions_public_idx" ON "versions" ("public")"#,
            #"ALTER TABLE "versions" ADD COLUMN "humidity" REAL"#,
            #"ALTER TABLE "versions" ADD COLUMN "source" TEXT NOT NULL DEFAULT 'manual'"#,
            #"ALTER TABLE "versions" ADD COLUMN "code" TEXT"#,
            #"CREATE UNIQUE INDEX IF NOT EXISTS "versions_code_key" ON "versions" ("code")"#,
        ])
        #expect(drift.additive.map(\SchemaDifference.description).contains(
            "shard asia: model Version, column source: missing from table versions: add the column (existing rows get its server_default \"manual\")"))
    }

    @Test func changesThatShardddoesNotMakeAreRefusedNamingModelAndColumn() {
        let catalog = Self.catalog(Self.version, .sqlite)
        func refused(_ model: Model) -> [String] {
            Self.drift([model], applied: [Self.version], catalogs: [catalog]).refused.map(\SchemaDifference.description)
        }
        // A type the catalog cannot tell apart (both INTEGER on SQLite): the models last applied can.
        let typed = refused(Self.with(Self.version) { $0[3].type = .timestamp })
        #expect(typed.count == 1)
        #expect(typed[0].hasPrefix("shard asia: model Version, column revision: models.Version.columns.revision: type changed from int to timestamp"))
        let strict = refused(Self.with(Self.version) { $0[4].nullable = false })
        #expect(strict.count == 1 && strict[0].contains("column weight: models.Version.columns.weight: nullable = false on an existing nullable column"))
        let key = refused(Self.with(Self.version, primaryKey: ["id", "name"]))
        #expect(key.contains { $0.hasPrefix("shard asia: model Version: models.Version.primary_key changed from [\"id\"] to [\"id\", \"name\"]") })
        let table = refused(Self.with(Self.version, table: "version_rows"))
        #expect(table == ["shard asia: model Version: models.Version.table changed from versions to version_rows, which shardd does not do (a new table would hide the old one's rows): set table = \"versions\" again, or rename the table on every shard yourself and then remove Version from state_dir/models.json"])
        let id = refused(Self.with(Self.version, id: .client))
        #expect(id.count == 1 && id[0].contains("models.Version.id changed from \"sequence\" to \"client\""))
        let serverDefault = refused(Self.with(Self.version) { $0[2].serverDefault = .value(.text("final")) })
        #expect(serverDefault.count == 1 && serverDefault[0].contains("column status: models.Version.columns.status.server_default changed from \"it's a draft\" to \"final\""))
        // Without the models last applied, the catalog still shows a type, a default, nullability.
        let noRecord = Self.drift([Self.with(Self.version) { $0[4].type = .text; $0[6].serverDefault = nil; $0[1].nullable = true }],
                                  catalogs: [catalog]).refused.map(\SchemaDifference.description)
        #expect(noRecord.count == 3, "\(noRecord)")
        #expect(noRecord.contains { $0.contains("column weight: models.Version.columns.weight: the shard's column is REAL, the models' text is TEXT") })
        #expect(noRecord.contains { $0.contains("column since: models.Version.columns.since: the shard's column has DEFAULT \(Self.day.microseconds)") })
        #expect(noRecord.contains { $0.contains("column name: models.Version.columns.name: the shard's column is NOT NULL and the models say nullable") })
    }

    @Test func newColumnsThatExistingRowsCannotFillAreRefused() {
        let catalog = Self.catalog(Self.version, .sqlite)
        let notNull = Self.with(Self.version) { $0.append(Column(name: "owner", type: .text, nullable: false)) }
        #expect(Self.drift([notNull], catalogs: [catalog]).refused.map(\SchemaDifference.description) == [
            "shard asia: model Version, column owner: models.Version.columns.owner is new to table versions and nullable = false without a server_default, so the rows already there would have no value: make it nullable, or give it a server_default",
        ])
        // SQLite's ADD COLUMN takes constant defaults only; PostgreSQL's takes now().
        let clock = Self.with(Self.version) { $0.append(Column(name: "seen", type: .timestamp, serverDefault: .now)) }
        #expect(Self.drift([clock], catalogs: [catalog]).refused.first?.message.contains("which SQLite cannot add to an existing table") == true)
        let onPostgres = Self.drift([clock], catalogs: [Self.catalog(Self.version, .postgres)], dialect: .postgres)
        #expect(onPostgres.refused == [])
        #expect(onPostgres.statements == [#"ALTER TABLE "versions" ADD COLUMN "seen" TIMESTAMPTZ DEFAULT now()"#])
    }

    @Test func aUniqueOverRepeatedValuesIsRefusedNamingTheValue() {
        var catalog = Self.catalog(Self.version, .sqlite)
        catalog.indexes.removeAll { $0.columns == ["name"] }
        let drift = Self.drift([Self.version], catalogs: [catalog],
                               duplicates: [SchemaDrift.ColumnRef(table: "versions", column: "name"): .text("v1")])
        #expect(drift.refused.map(\SchemaDifference.description) == [
            "shard asia: model Version, column name: models.Version.columns.name: unique = true, and rows of table versions repeat the value \"v1\"; remove the duplicates first, or leave unique out",
        ])
        #expect(Self.drift([Self.version], catalogs: [catalog]).statements == [#"CREATE UNIQUE INDEX IF NOT EXISTS "versions_name_key" ON "versions" ("name")"#])
    }

    @Test func columnsAndModelsNoLongerNamedAreNotesOnly() {
        var catalog = Self.catalog(Self.version, .sqlite)
        catalog.columns.append(TableCatalog.Column(name: "legacy", type: "TEXT", notNull: true))
        let other = Model(name: "Old", table: "olds", columns: [Column(name: "id", type: .int, nullable: false)],
                          primaryKey: ["id"], id: .client, shardBy: nil)
        let drift = Self.drift([Self.version], applied: [Self.version, other], catalogs: [catalog])
        #expect(drift.matches)
        #expect(drift.notes.map(\SchemaDifference.description) == [
            "shard asia: model Version, column legacy: table versions has this column and the models do not name it; left alone (it is NOT NULL without a default: every add will fail until it is dropped or given a default)",
            "shard asia: model Old: no longer in the models; its table olds is left as it is",
        ])
    }

    /// What PostgreSQL gives back for the defaults shardd writes, and SQLite's text as written.
    @Test func catalogDefaultsAreRead() {
        let pg = SQLDialect.postgres
        #expect(pg.parseDefault("'-5'::integer", type: .int) == .value(.int(-5)))
        #expect(pg.parseDefault("'10000000000'::bigint", type: .int) == .value(.int(10_000_000_000)))
        #expect(pg.parseDefault("1.5", type: .real) == .value(.real(1.5)))
        #expect(pg.parseDefault("'it''s'::text", type: .text) == .value(.text("it's")))
        #expect(pg.parseDefault("true", type: .bool) == .value(.bool(true)))
        #expect(pg.parseDefault("now()", type: .timestamp) == .now)
        #expect(pg.parseDefault("CURRENT_TIMESTAMP", type: .timestamp) == .now)
        #expect(pg.parseDefault("'2026-01-01 00:00:00+00'::timestamp with time zone", type: .timestamp) == .value(.timestamp(Self.day)))
        #expect(pg.parseDefault("nextval('x_seq'::regclass)", type: .int) == nil)
        let lite = SQLDialect.sqlite
        #expect(lite.parseDefault(lite.defaultSQL(.now, type: .timestamp), type: .timestamp) == .now)
        #expect(lite.parseDefault("'it''s'", type: .text) == .value(.text("it's")))
        #expect(lite.parseDefault("-5", type: .int) == .value(.int(-5)))
        #expect(lite.parseDefault("1", type: .bool) == .value(.bool(true)))
        #expect(lite.parseDefault("5", type: .text) == nil)
    }

    /// The catalogs of real shards read back exactly what `createStatements` and the
    /// additive changes made: no differences, on both backends.
    @Test(arguments: TestBackend.allCases)
    func realShardsMatchWhatShardddMade(_ backend: TestBackend) async throws {
        let shardLocal = Model(name: "Reading", table: "readings",
                               columns: [Column(name: "id", type: .int, nullable: false), Column(name: "place", type: .int, index: true)],
                               primaryKey: ["id"], id: .shardLocal, shardBy: nil)
        let fixture = try await TestShard.make(backend, model: Self.version, rows: [])
        defer { fixture.drop() }
        let shard = fixture.shard
        func drift(_ models: [Model]) async throws -> SchemaDrift {
            try await shard.withConnection { connection in
                try SchemaMigration.drift(on: connection, shard: shard, models: models, applied: nil)
            }
        }
        let first = try await drift([Self.version, shardLocal])
        #expect(first.differences.map(\SchemaDifference.description) == ["shard asia: model Reading: table readings is missing: create it"])
        try await shard.withConnection { connection in
            for sql in first.statements { try connection.execute(sql) }
            _ = try connection.run(Statement(#"INSERT INTO "versions" ("id", "name") VALUES (1, 'a'), (2, 'a2')"#))
        }
        #expect(try await drift([Self.version, shardLocal]).differences == [])
        // Two new columns and an index, applied as a migration would.
        let grown = Self.with(Self.version) { columns in
            columns.append(Column(name: "humidity", type: .real))
            columns.append(Column(name: "source", type: .text, nullable: false, index: true, serverDefault: .value(.text("manual"))))
            columns.append(Column(name: "flag", type: .bool, unique: true))
        }
        let second = try await drift([grown])
        #expect(second.refused == [] && second.additive.count == 3, "\(second.differences)")
        try await shard.withConnection { connection in
            _ = try connection.inTransaction { for sql in second.statements { try connection.execute(sql) } }
        }
        #expect(try await drift([grown]).differences == [])
        // The old rows read the server defaults (and null where there is none).
        let rows = try await shard.withConnection { connection in
            try connection.run(Statement(#"SELECT "status", "revision", "source", "flag" FROM "versions" ORDER BY "id""#,
                                         resultTypes: [.text, .int, .text, .bool])).rows
        }
        #expect(rows == [[.text("it's a draft"), .int(-5), .text("manual"), .null],
                         [.text("it's a draft"), .int(-5), .text("manual"), .null]])
    }
}
