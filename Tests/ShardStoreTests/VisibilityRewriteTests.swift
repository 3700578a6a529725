import ShardTestSupport
import Testing
@testable import ShardCore
@testable import ShardStore
import ShardProtocol

/// What clients' statements become while a move hides rows of a table (`HiddenRows`): the
/// dialect's own statements, rewritten, and run on real shards with rows listed.
@Suite struct VisibilityRewriteTests {
    static let reports = VisibilityRewrite.Table(name: "weather_reports", keyColumns: ["id"])
    static let rewrite = VisibilityRewrite(tables: [reports])
    static let filter = #"NOT EXISTS (SELECT 1 FROM "_shardd_rows_weather_reports" h WHERE h."id" = "weather_reports"."id")"#

    @Test func readsGoToTheViewUnderTheTablesNameOrItsAlias() {
        #expect(Self.rewrite.rewrite(#"SELECT "id" FROM "weather_reports" WHERE "id" = ?1"#)
                == #"SELECT "id" FROM "_shardd_visible_weather_reports" AS "weather_reports" WHERE "id" = ?1"#)
        #expect(Self.rewrite.rewrite(#"SELECT count(*) FROM "weather_reports""#)
                == #"SELECT count(*) FROM "_shardd_visible_weather_reports" AS "weather_reports""#)
        #expect(Self.rewrite.rewrite(#"SELECT t0."id" FROM "weather_reports" t0 JOIN "weather_reports" t1 ON t1."id" = t0."id""#)
                == #"SELECT t0."id" FROM "_shardd_visible_weather_reports" t0 JOIN "_shardd_visible_weather_reports" t1 ON t1."id" = t0."id""#)
        // Another table, and a longer name that starts the same, are left alone.
        #expect(Self.rewrite.rewrite(#"SELECT 1 FROM "weather_locations" WHERE 1"#) == #"SELECT 1 FROM "weather_locations" WHERE 1"#)
        let longer = #"SELECT 1 FROM "weather_reports_2""#
        #expect(Self.rewrite.rewrite(longer) == longer)
        #expect(Self.rewrite.rewrite(#"INSERT INTO "weather_reports" ("id") VALUES (?) RETURNING "id""#)
                == #"INSERT INTO "weather_reports" ("id") VALUES (?) RETURNING "id""#)
    }

    /// `any` / `has` name their table with an alias (`shardd_r1`), which the view takes.
    @Test func relatedConditionsReadTheView() {
        #expect(Self.rewrite.rewrite(#"SELECT "id" FROM "weather_locations" WHERE EXISTS (SELECT 1 FROM "weather_reports" shardd_r1 WHERE shardd_r1."location_id" = "weather_locations"."id")"#)
                == #"SELECT "id" FROM "weather_locations" WHERE EXISTS (SELECT 1 FROM "_shardd_visible_weather_reports" shardd_r1 WHERE shardd_r1."location_id" = "weather_locations"."id")"#)
    }

    @Test func writesLeaveTheListedRowsAlone() {
        #expect(Self.rewrite.rewrite(#"UPDATE "weather_reports" SET "temperature" = ?1 WHERE "id" = ?2 RETURNING "id""#)
                == #"UPDATE "weather_reports" SET "temperature" = ?1 WHERE \#(Self.filter) AND ("id" = ?2) RETURNING "id""#)
        #expect(Self.rewrite.rewrite(#"DELETE FROM "weather_reports" WHERE "location_id" IN (?, ?)"#)
                == #"DELETE FROM "weather_reports" WHERE \#(Self.filter) AND ("location_id" IN (?, ?))"#)
        #expect(Self.rewrite.rewrite(#"DELETE FROM "weather_reports" RETURNING "id""#)
                == #"DELETE FROM "weather_reports" WHERE \#(Self.filter) RETURNING "id""#)
    }

    /// On both backends: listed rows are invisible to the dialect's select, count, update and
    /// delete run through a counted connection, and visible again once shown.
    @Test(arguments: TestBackend.allCases)
    func listedRowsAreInvisibleOnRealShards(_ backend: TestBackend) async throws {
        let model = Model(name: "Report", table: "weather_reports", columns: [Column(name: "id", type: .int), Column(name: "t", type: .real)],
                          primaryKey: ["id"], id: .client, sequenceShard: nil, shardBy: nil, relationships: [])
        let shard = try await TestShard.make(backend, model: model, rows: (1...5).map { [.int(Int64($0)), .real(Double($0))] })
        defer { shard.drop() }
        let store = shard.shard, dialect = store.dialect
        try await store.withConnection { connection in
            for sql in dialect.createKeyList(model) { try connection.execute(sql) }
            for statement in dialect.insertMany(SQLDialect.keyList(model), columns: ["id"], rows: [[.int(2)], [.int(4)]]) {
                _ = try connection.uncounted.run(statement)
            }
        }
        store.hidden.hide(SQLDialect.hiddenTable(model))
        let visible = try await store.withConnection { connection in
            try connection.run(dialect.select(model, where: nil, orderBy: [SortKey(column: "id")], limit: 10)).rows.map { $0[0] }
        }
        #expect(visible == [.int(1), .int(3), .int(5)])
        #expect(try await store.withConnection { try $0.run(dialect.count(model, where: nil)).rows.first?.first } == .int(3))
        #expect(try await store.withConnection { try $0.run(dialect.update(model, key: [.int(2)], set: [("t", .value(.real(9)))])).rows.isEmpty })
        #expect(try await store.withConnection { try $0.run(dialect.delete(model, key: [.int(4)])).rowsAffected } == 0)
        #expect(try await store.withConnection { try $0.run(dialect.delete(model, key: [.int(5)])).rowsAffected } == 1)
        store.hidden.show(model.table)
        let all = try await store.withConnection { connection in
            try connection.run(dialect.select(model, where: nil, orderBy: [SortKey(column: "id")], limit: 10)).rows
        }
        #expect(all == [[.int(1), .real(1)], [.int(2), .real(2)], [.int(3), .real(3)], [.int(4), .real(4)]])
    }
}
