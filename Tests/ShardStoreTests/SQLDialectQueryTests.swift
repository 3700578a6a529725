import ShardCore
import ShardProtocol
import Testing
@testable import ShardStore

/// The statements the dialect renders for the session's ops, as text, on both backends:
/// the session holds no SQL of its own. (What they return is tested against real shards by
/// the end-to-end suites.)
@Suite struct SQLDialectQueryTests {
    static let model = Model(
        name: "Report", table: "weather_reports",
        columns: [Column(name: "id", type: .int, nullable: false), Column(name: "location_id", type: .int), Column(name: "temperature", type: .real)],
        primaryKey: ["id"], id: .shardLocal, shardBy: nil
    )

    @Test func selectsAndCounts() {
        let hot = Expression.compare(.greater, column: "temperature", .real(80))
        let select = SQLDialect.sqlite.select(Self.model, where: hot, orderBy: [SortKey(column: "temperature", descending: true), SortKey(column: "id")], limit: 11)
        #expect(select.sql == #"SELECT "id", "location_id", "temperature" FROM "weather_reports" WHERE "temperature" > ?1 ORDER BY "temperature" DESC NULLS LAST, "id" ASC NULLS FIRST LIMIT 11"#)
        #expect(select.params == [.real(80)] && select.resultTypes == [.int, .int, .real])
        #expect(SQLDialect.postgres.select(Self.model, where: nil, orderBy: [], limit: 1).sql == #"SELECT "id", "location_id", "temperature" FROM "weather_reports" LIMIT 1"#)
        let count = SQLDialect.postgres.count(Self.model, where: hot)
        #expect(count.sql == #"SELECT count(*) FROM "weather_reports" WHERE "temperature" > $1"# && count.resultTypes == [.int])
        #expect(SQLDialect.sqlite.count(Self.model, where: nil).sql == #"SELECT count(*) FROM "weather_reports""#)
    }

    @Test func bulkWritesReturnRowsWhenAsked() {
        let one = Expression.compare(.equal, column: "location_id", .int(1))
        let update = SQLDialect.postgres.updateWhere(Self.model, set: [("temperature", .value(.real(1)))], where: one, returningRows: true)
        #expect(update.sql == #"UPDATE "weather_reports" SET "temperature" = $1 WHERE "location_id" = $2 RETURNING "id", "location_id", "temperature""#)
        #expect(update.params == [.real(1), .int(1)] && update.resultTypes == [.int, .int, .real])
        let quiet = SQLDialect.sqlite.updateWhere(Self.model, set: [("temperature", .value(.null))], where: nil, returningRows: false)
        #expect(quiet.sql == #"UPDATE "weather_reports" SET "temperature" = ?1"# && quiet.resultTypes == nil)
        #expect(SQLDialect.sqlite.deleteWhere(Self.model, where: one, returningRows: false).sql == #"DELETE FROM "weather_reports" WHERE "location_id" = ?1"#)
        #expect(SQLDialect.postgres.deleteWhere(Self.model, where: nil, returningRows: true).sql == #"DELETE FROM "weather_reports" RETURNING "id", "location_id", "temperature""#)
    }

    @Test func computedValuesRenderPerBackend() {
        let plusOne: [(column: String, value: Assignment)] = [
            ("temperature", .computed(.arithmetic(.add, column: "temperature", .computed(.arithmetic(.multiply, column: "location_id", .value(.real(1.5))))))),
        ]
        #expect(SQLDialect.postgres.updateWhere(Self.model, set: plusOne, where: nil, returningRows: false).sql
                == #"UPDATE "weather_reports" SET "temperature" = ("temperature" + ("location_id" * $1))"#)
        #expect(SQLDialect.sqlite.updateWhere(Self.model, set: plusOne, where: nil, returningRows: false).sql
                == #"UPDATE "weather_reports" SET "temperature" = shardd_add("temperature", shardd_multiply("location_id", ?1))"#)
    }

    @Test func inListsComeInChunks() {
        let links = (1...2500).map { ShardValue.int(Int64($0)) }
        let related = SQLDialect.sqlite.selectIn(Self.model, column: "location_id", links, limit: 10001)
        #expect(related.map(\.params.count) == [1000, 1000, 500])
        #expect(related[2].sql == #"SELECT "id", "location_id", "temperature" FROM "weather_reports" WHERE "location_id" IN (?, "#
            + Array(repeating: "?", count: 499).joined(separator: ", ") + #") ORDER BY "id" ASC NULLS FIRST LIMIT 10001"#)
        #expect(related.flatMap(\.params) == links)
        let keys = SQLDialect.postgres.keysIn(Self.model, [.int(4), .int(9)])
        #expect(keys.count == 1 && keys[0].sql == #"SELECT "id" FROM "weather_reports" WHERE "id" IN ($1, $2)"# && keys[0].resultTypes == [.int])
        #expect(SQLDialect.sqlite.keysIn(Self.model, []).isEmpty)
    }

    @Test func backendDifferencesAreCapabilities() {
        #expect(SQLDialect.postgres.failedStatementAbortsTransaction && !SQLDialect.sqlite.failedStatementAbortsTransaction)
        #expect(SQLDialect.sqlite.readsInline && !SQLDialect.postgres.readsInline)
    }

    @Test func columnPositionsAreFoundOnce() {
        let model = Self.model
        #expect(model.position(of: "temperature") == 2 && model.primaryKeyPositions == [0] && model.column(named: "nope") == nil)
        #expect(model.primaryKeyColumns == [Column(name: "id", type: .int, nullable: false)])
        let wider = Model(name: "Report", table: "weather_reports", columns: [Column(name: "x", type: .text)] + model.columns,
                          primaryKey: ["id"], id: .shardLocal, shardBy: nil)
        #expect(wider.position(of: "temperature") == 3 && wider.primaryKeyPositions == [1])
        #expect(wider != model && model == Self.model)
    }
}
