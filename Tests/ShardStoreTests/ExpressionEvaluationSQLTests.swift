import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing
@testable import ShardStore

/// `Expression.evaluate` (a `having`, in memory) keeps exactly the rows that the expression's
/// SQL (a `where`) returns on SQLite and on PostgreSQL: the same expression means the same
/// thing in both places.
@Suite struct ExpressionEvaluationSQLTests {
    static let model = ExpressionSQLTests.model

    static func ts(_ text: String) -> ShardValue { .timestamp(try! Timestamp(rfc3339: text)) }

    /// ExpressionSQLTests' rows (case, LIKE and GLOB metacharacters, combining marks, nulls)
    /// and two more.
    static let rows: [[ShardValue]] = ExpressionSQLTests.rows + [
        [.int(33), .int(-3), .real(-0.0), .text("😀"), .bool(false), ts("1970-01-01T00:00:00Z")],
        [.int(34), .int(34), .null, .text("e\u{301}\u{301}"), .bool(true), ts("1969-12-31T23:59:59.999999Z")],
    ]

    static func eq(_ column: String, _ value: ShardValue) -> Expression { .compare(.equal, column: column, value) }
    static func like(_ pattern: String) -> Expression { .like(column: "t", pattern: pattern) }
    static func startsWith(_ prefix: String) -> Expression { .startsWith(column: "t", prefix: prefix) }

    /// ExpressionSQLTests' expressions, and the cases only an evaluator in memory can get
    /// wrong: empty and/or, nulls inside in-lists and between bounds, ints against reals.
    static let expressions: [Expression] = ExpressionSQLTests.expressions + [
        .compare(.less, column: "t", .text("\u{E9}")),
        .between(column: "i", .int(-5), .int(7)),
        like("e__"),
        like("%\u{301}"),
        like("x_z"),
        .or([]),
        .not(.notIn(column: "b", [])),
        .not(.and([eq("b", .bool(true)), .compare(.greater, column: "r", .real(0))])),
        .isIn(column: "i", [.int(7), .null]),
        .notIn(column: "i", [.int(7), .null]),
        .between(column: "i", .null, .int(20)),
        .not(.between(column: "i", .int(20), .null)),
        eq("r", .int(7)),
        .compare(.less, column: "i", .real(0.5)),
        .isIn(column: "r", [.int(18), .int(-20)]),
    ]

    /// The ids of the rows for which `evaluate` is true, the row given as the daemon sees one.
    static func evaluatedIDs(_ expression: Expression) -> [ShardValue] {
        rows.filter { row in
            let values = Dictionary(uniqueKeysWithValues: zip(model.columns.map(\.name), row))
            return expression.evaluate(values) == true
        }.map { $0[0] }
    }

    @Test func theExpressionsAreInformative() {
        // Most expressions keep some rows but not all, so agreement can tell evaluators apart;
        // the rest are the constant forms (empty lists, and/or of nothing, reversed or null bounds).
        let informative = Self.expressions.filter { (1..<Self.rows.count).contains(Self.evaluatedIDs($0).count) }
        let trivial = Self.expressions.filter { !(1..<Self.rows.count).contains(Self.evaluatedIDs($0).count) }
        #expect(informative.count >= Self.expressions.count - 10, "\(trivial)")
        #expect(Self.expressions.count >= 60)
        // A missing column is a null column.
        for expression in Self.expressions {
            for row in Self.rows {
                let columns = Self.model.columns.map(\.name)
                let withNulls = Dictionary(uniqueKeysWithValues: zip(columns, row))
                let withoutNulls = withNulls.filter { !$0.value.isNull }
                #expect(expression.evaluate(withNulls) == expression.evaluate(withoutNulls))
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func whereReturnsTheRowsEvaluateKeeps(backend: TestBackend) async throws {
        let fixture = try await TestShard.make(backend, model: Self.model, rows: Self.rows)
        defer { fixture.drop() }
        let dialect = fixture.shard.dialect
        for expression in Self.expressions {
            var parameters: [ShardValue] = []
            let clause = dialect.whereClause(expression, model: Self.model, parameters: &parameters)
            let sql = "SELECT id FROM \(Self.model.table) WHERE \(clause) ORDER BY id"
            let statement = Statement(sql, parameters, resultTypes: [.int])
            let got = try await fixture.shard.withConnection { try $0.run(statement).rows.map { $0[0] } }
            #expect(got == Self.evaluatedIDs(expression), "\(backend): \(expression)\n\(sql)\n\(parameters)")
        }
    }
}
