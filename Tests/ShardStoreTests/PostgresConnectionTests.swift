import Foundation
import ShardCore
import ShardProtocol
@testable import ShardStore
import ShardTestSupport
import Testing

private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await PostgresTestDatabase.blocking(body)
}

private func timestamp(_ text: String) -> Timestamp {
    PostgresTestDatabase.timestamp(text)
}

/// The PostgreSQL backend against the real server of scripts/postgres.sh.
@Suite("PostgresConnection")
struct PostgresConnectionTests {
    // MARK: - Round trips

    static let texts: [String] = [
        "", "plain ascii", "é", "e\u{301}", "😀", "👨‍👩‍👧‍👦", "👍🏽", "🇯🇵", "日本語テキスト", "עברית", "Ελληνικά",
        "'single' \"double\" `back`", "back\\slash \\n \\x00 \\\\", "tab\tnewline\ncr\r", "\u{FEFF}bom",
        "\u{200B}zero width", "\u{10FFFF}", "\u{FFFD}", "Å\u{30A}\u{301}\u{327}",
        String(repeating: "ab😀é\u{301}", count: 20_000),
    ]

    static let reals: [Double] = [
        0, -0.0, 1, -1, 0.1, .pi, 1e-300, -1e300, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
        .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 123456789.123456789, 9007199254740991, 0x1.fffffffffffffp-1,
    ]

    static var timestamps: [Timestamp] {
        let nowMicros = Int64(Date().timeIntervalSince1970 * 1_000_000)
        return [
            timestamp("1969-12-31T23:59:59.999999Z"), timestamp("0001-01-01T00:00:00Z"),
            timestamp("9999-12-31T23:59:59.999999Z"), Timestamp.earliest, Timestamp.latest,
            Timestamp(microseconds: 0), timestamp("2000-01-01T00:00:00Z"), timestamp("1999-12-31T23:59:59.999999Z"),
            timestamp("2024-02-29T12:00:00.5Z"), timestamp("1900-03-01T00:00:00.000001Z"),
            Timestamp(microseconds: nowMicros - nowMicros % 1_000_000 + 123_457),
        ]
    }

    static var valuesByType: [(ColumnType, [ShardValue])] {
        [
            (.int, [.int(0), .int(1), .int(-1), .int(.max), .int(.min), .int(42)]),
            (.real, reals.map(ShardValue.real)),
            (.text, texts.map(ShardValue.text)),
            (.bool, [.bool(true), .bool(false)]),
            (.timestamp, timestamps.map(ShardValue.timestamp)),
        ]
    }

    @Test("every type round-trips exactly, null included, in binary and in text")
    func roundTripEveryType() async throws {
        try await PostgresTestDatabase.with { db in
            for (type, values) in Self.valuesByType {
                let table = "v_\(type.rawValue)"
                try await db.execute("CREATE TABLE \(table) (id BIGINT PRIMARY KEY, v \(SQLDialect.postgres.sqlType(type)))")
                let all = values + [.null]
                for (i, value) in all.enumerated() {
                    let inserted = try await db.run("INSERT INTO \(table) (id, v) VALUES ($1, $2)", [.int(Int64(i)), value])
                    #expect(inserted.rowsAffected == 1)
                }
                let binary = try await db.run("SELECT v FROM \(table) ORDER BY id", [], [type])
                #expect(binary.columns == ["v"])
                #expect(binary.rows.map { $0[0] } == all, "binary \(type)")
                let text = try await db.run("SELECT v FROM \(table) ORDER BY id")
                #expect(text.rows.map { $0[0] } == all, "text \(type)")

                // A parameter comes back as it went, without a table in between.
                for value in all {
                    let echoed = try await db.run("SELECT $1::\(SQLDialect.postgres.sqlType(type)) AS v", [value], [type])
                    #expect(echoed.rows == [[value]], "echo \(value)")
                }
            }

            // -0.0 == 0.0 for Double, so its sign is checked on its own, both ways: it is
            // stored as 0.0, as on SQLite, which cannot keep the sign of zero.
            let negativeZero = try await db.run("SELECT v FROM v_real WHERE id = 1", [], [.real])
            let negativeZeroText = try await db.run("SELECT v FROM v_real WHERE id = 1")
            for result in [negativeZero, negativeZeroText] {
                guard case .real(let d) = result.rows.first?.first else {
                    Issue.record("no -0.0 row")
                    continue
                }
                #expect(d == 0 && d.sign == .plus)
            }

            // Canonically equivalent text stays two different values (C collation, bytes).
            let distinct = try await db.run(
                "SELECT count(DISTINCT v) FROM v_text WHERE v IN ($1, $2)", [.text("é"), .text("e\u{301}")], [.int])
            #expect(distinct.rows == [[.int(2)]])
            let exact = try await db.run("SELECT id FROM v_text WHERE v = $1", [.text("e\u{301}")], [.int])
            #expect(exact.rows == [[.int(3)]])
        }
    }

    @Test("text with a NUL byte is an invalid value")
    func nulByteInText() async throws {
        try await PostgresTestDatabase.with { db in
            let error = await #expect(throws: BackendError.self) {
                _ = try await db.run("SELECT $1::text", [.text("a\u{0}b")], [.text])
            }
            #expect(error?.code == .invalidValue)
            #expect(error?.backendCode == "22021")
        }
    }

    // MARK: - Decoding

    @Test("raw SQL decodes by the column's type")
    func rawDecoding() async throws {
        try await PostgresTestDatabase.with { db in
            try await db.execute("CREATE TABLE n (i BIGINT, t TEXT COLLATE \"C\", b BOOLEAN)")
            for (i, t, b) in [(1, "x", true), (2, "y", true), (3, "z", false)] {
                _ = try await db.run("INSERT INTO n VALUES ($1, $2, $3)", [.int(Int64(i)), .text(t), .bool(b)])
            }
            let result = try await db.run(
                "SELECT count(*), sum(i), avg(i), max(t), bool_and(b), bool_or(b), min(i)::int4 AS small FROM n")
            #expect(result.columns == ["count", "sum", "avg", "max", "bool_and", "bool_or", "small"])
            #expect(result.rows == [[.int(3), .int(6), .real(2), .text("z"), .bool(false), .bool(true), .int(1)]])
            #expect(result.rowsAffected == 1)

            let more = try await db.run(
                """
                SELECT (9223372036854775807::numeric * 2) AS big, 1.5::numeric AS half, 'NaN'::numeric AS nan,
                       -9223372036854775808::numeric AS min, 7::int2 AS tiny, 1.5::float4 AS f4,
                       'v'::varchar AS vc, '00000000-0000-0000-0000-000000000001'::uuid AS id,
                       '2026-11-21 09:30:00.25+00'::timestamptz AS tz, '1969-12-31 23:59:59.999999'::timestamp AS ts,
                       '0001-01-01 00:00:00+00 BC'::timestamptz AS bc, 'infinity'::timestamptz AS inf,
                       NULL::bigint AS nothing, '{"a": 1}'::jsonb AS doc
                """)
            #expect(more.columns == ["big", "half", "nan", "min", "tiny", "f4", "vc", "id", "tz", "ts", "bc", "inf", "nothing", "doc"])
            let row = try #require(more.rows.first)
            #expect(row[0] == .real(0x1p64), "9223372036854775807 * 2 rounds to 2^64")
            #expect(row[1] == .real(1.5))
            if case .real(let nan) = row[2] { #expect(nan.isNaN) } else { Issue.record("NaN: \(row[2])") }
            #expect(row[3] == .int(.min))
            #expect(row[4] == .int(7))
            #expect(row[5] == .real(1.5))
            #expect(row[6] == .text("v"))
            #expect(row[7] == .text("00000000-0000-0000-0000-000000000001"))
            #expect(row[8] == .timestamp(timestamp("2026-11-21T09:30:00.25Z")))
            #expect(row[9] == .timestamp(timestamp("1969-12-31T23:59:59.999999Z")))
            #expect(row[10] == .timestamp(Timestamp.earliest))
            #expect(row[11] == .text("infinity"))
            #expect(row[12] == .null)
            #expect(row[13] == .text("{\"a\": 1}"))
        }
    }

    @Test("raw timestamps decode in any session time zone, historical second offsets included")
    func rawTimestampsInOtherZones() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            let instants = [
                timestamp("2026-11-21T09:30:00.25Z"), timestamp("1900-01-01T00:00:00Z"),
                timestamp("1969-12-31T23:59:59.999999Z"), Timestamp.earliest, timestamp("0001-01-01T00:00:00Z"),
                timestamp("9999-12-31T12:00:00.000001Z"),
            ]
            let decoded = try await db.shard.withConnection { connection -> [[ShardValue]] in
                try connection.execute("CREATE TABLE z (id BIGINT, v TIMESTAMPTZ)")
                for (i, instant) in instants.enumerated() {
                    _ = try connection.run(Statement("INSERT INTO z VALUES ($1, $2)", [.int(Int64(i)), .timestamp(instant)]))
                }
                var all: [[ShardValue]] = []
                // Kolkata is +05:30, Amsterdam in 1900 was +00:19:32, Honolulu is -10 (and
                // -10:31:26 before 1896, which puts 0000-01-01Z in 2 BC), Kiritimati is +14.
                for zone in ["Asia/Kolkata", "Europe/Amsterdam", "Pacific/Honolulu", "Pacific/Kiritimati"] {
                    try connection.execute("SET TIME ZONE '\(zone)'")
                    let rows = try connection.run(Statement("SELECT v, v::text FROM z ORDER BY id"))
                    all.append(rows.rows.map { $0[0] })
                    all.append([.text(rows.rows.map { "\($0[1].messageText)" }.joined(separator: " | "))])
                }
                try connection.execute("SET TIME ZONE 'UTC'")
                return all
            }
            for index in stride(from: 0, to: decoded.count, by: 2) {
                #expect(decoded[index] == instants.map(ShardValue.timestamp), "\(decoded[index + 1])")
            }
        }
    }

    @Test("binary results decode the narrower PostgreSQL types to the requested type")
    func binaryDecodingOfOtherTypes() async throws {
        try await PostgresTestDatabase.with { db in
            let result = try await db.run(
                """
                SELECT 1::int4, 2::int2, 1.5::float4, 'x'::varchar, 'y'::name, 'z'::char(3),
                       '2026-11-21 09:30:00.123456'::timestamp, 12345::numeric, 2.5::numeric, 7::bigint,
                       0::numeric, -0.001::numeric, 10000::numeric, 123456789.000123::numeric,
                       -9223372036854775808::numeric, 100.000::numeric
                """,
                [],
                [.int, .int, .real, .text, .text, .text, .timestamp, .int, .real, .real,
                 .int, .real, .int, .real, .int, .int])
            #expect(result.rows == [[
                .int(1), .int(2), .real(1.5), .text("x"), .text("y"), .text("z  "),
                .timestamp(timestamp("2026-11-21T09:30:00.123456Z")), .int(12345), .real(2.5), .real(7),
                .int(0), .real(-0.001), .int(10000), .real(123456789.000123), .int(.min), .int(100),
            ]])
        }
    }

    @Test("a result that does not fit the requested type is an invalid value")
    func binaryTypeMismatch() async throws {
        try await PostgresTestDatabase.with { db in
            let wrongType = await #expect(throws: BackendError.self) {
                _ = try await db.run("SELECT 'x'::text AS label", [], [.int])
            }
            #expect(wrongType?.code == .invalidValue)
            #expect(wrongType?.message.contains("label") == true)

            let fraction = await #expect(throws: BackendError.self) {
                _ = try await db.run("SELECT 2.5::numeric", [], [.int])
            }
            #expect(fraction?.code == .invalidValue)

            let infinite = await #expect(throws: BackendError.self) {
                _ = try await db.run("SELECT 'infinity'::timestamptz", [], [.timestamp])
            }
            #expect(infinite?.code == .invalidValue)

            let count = await #expect(throws: BackendError.self) {
                _ = try await db.run("SELECT 1, 2", [], [.int])
            }
            #expect(count?.cause == .refused)
        }
    }

    // MARK: - Order

    @Test("ORDER BY orderTerm sorts text by bytes, nulls first ascending and last descending")
    func orderByBytes() async throws {
        try await PostgresTestDatabase.with { db in
            try await db.execute("CREATE TABLE o (id BIGINT, t \(SQLDialect.postgres.sqlType(.text)), n BIGINT)")
            let rows: [(ShardValue, ShardValue)] = [
                (.text("😀"), .int(3)), (.text("a"), .null), (.null, .int(-5)), (.text("é"), .int(10)),
                (.text("B"), .int(0)), (.text("e\u{301}"), .int(7)),
            ]
            for (i, (t, n)) in rows.enumerated() {
                _ = try await db.run("INSERT INTO o VALUES ($1, $2, $3)", [.int(Int64(i)), t, n])
            }
            let ascending = try await db.run(
                "SELECT t FROM o ORDER BY \(SQLDialect.postgres.orderTerm("t", descending: false))", [], [.text])
            let expected: [ShardValue] = [.null, .text("B"), .text("a"), .text("e\u{301}"), .text("é"), .text("😀")]
            #expect(ascending.rows.map { $0[0] } == expected)
            #expect(expected == expected.sorted(), "the dialect and ShardValue's own order agree")

            let descending = try await db.run(
                "SELECT t FROM o ORDER BY \(SQLDialect.postgres.orderTerm("t", descending: true))", [], [.text])
            #expect(descending.rows.map { $0[0] } == expected.reversed())

            let numbers = try await db.run(
                "SELECT n FROM o ORDER BY \(SQLDialect.postgres.orderTerm("n", descending: false))", [], [.int])
            #expect(numbers.rows.map { $0[0] } == [.null, .int(-5), .int(0), .int(3), .int(7), .int(10)])
            let numbersDown = try await db.run(
                "SELECT n FROM o ORDER BY \(SQLDialect.postgres.orderTerm("n", descending: true))", [], [.int])
            #expect(numbersDown.rows.map { $0[0] } == [.int(10), .int(7), .int(3), .int(0), .int(-5), .null])
        }
    }

    // MARK: - Schema

    static let people = Model(
        name: "Person", table: "people",
        columns: [
            Column(name: "id", type: .int, nullable: false),
            Column(name: "email", type: .text, nullable: false, unique: true),
            Column(name: "nickname", type: .text),
            Column(name: "city", type: .text, index: true),
            Column(name: "born", type: .timestamp),
            Column(name: "score", type: .real),
            Column(name: "active", type: .bool, nullable: false),
        ],
        primaryKey: ["id"], id: .shardLocal, shardBy: nil)

    static let visits = Model(
        name: "Visit", table: "visits",
        columns: [
            Column(name: "person", type: .int, nullable: false),
            Column(name: "day", type: .timestamp, nullable: false),
            Column(name: "note", type: .text, index: true),
        ],
        primaryKey: ["person", "day"], id: .client, shardBy: nil)

    @Test("createStatements works twice; NOT NULL and UNIQUE violations are constraint violations")
    func createStatementsAndConstraints() async throws {
        try await PostgresTestDatabase.with { db in
            for _ in 0..<2 {
                for model in [Self.people, Self.visits] {
                    for sql in SQLDialect.postgres.createStatements(for: model) {
                        try await db.execute(sql)
                    }
                }
            }
            let insert = "INSERT INTO people (email, nickname, city, born, score, active) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
            let first = try await db.run(
                insert, [.text("a@x"), .null, .text("Oslo"), .timestamp(timestamp("1970-01-01T00:00:00Z")), .real(1.5), .bool(true)],
                [.int])
            let second = try await db.run(insert, [.text("b@x"), .text("bee"), .null, .null, .null, .bool(false)], [.int])
            #expect(first.rows == [[.int(1)]])
            #expect(second.rows == [[.int(2)]])

            let notNull = await #expect(throws: BackendError.self) {
                _ = try await db.run(insert, [.null, .null, .null, .null, .null, .bool(true)], [.int])
            }
            #expect(notNull?.code == .constraintViolation)
            #expect(notNull?.backendCode == "23502")
            #expect(notNull?.sql == insert)
            #expect(notNull?.shard == db.shard.name)

            let unique = await #expect(throws: BackendError.self) {
                _ = try await db.run(insert, [.text("a@x"), .null, .null, .null, .null, .bool(true)], [.int])
            }
            #expect(unique?.code == .constraintViolation)
            #expect(unique?.backendCode == "23505")
            #expect(unique?.message.contains("duplicate key") == true)

            let visit = "INSERT INTO visits (person, day, note) VALUES ($1, $2, $3)"
            let day = ShardValue.timestamp(timestamp("2026-01-01T00:00:00Z"))
            _ = try await db.run(visit, [.int(1), day, .null])
            let duplicateKey = await #expect(throws: BackendError.self) {
                _ = try await db.run(visit, [.int(1), day, .text("again")])
            }
            #expect(duplicateKey?.backendCode == "23505")

            let indexes = try await db.run(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname", [], [.text])
            let names = indexes.rows.compactMap { row -> String? in
                if case .text(let s) = row[0] { return s }
                return nil
            }
            #expect(names.contains("people_city_idx"))
            #expect(names.contains("visits_note_idx"))
            #expect(!names.contains("people_email_idx"), "a unique column has its own index")

            let columnTypes = try await db.run(
                """
                SELECT column_name::text, data_type::text, coalesce(collation_name::text, '') FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = 'people' ORDER BY ordinal_position
                """, [], [.text, .text, .text])
            #expect(columnTypes.rows == [
                [.text("id"), .text("bigint"), .text("")],
                [.text("email"), .text("text"), .text("C")],
                [.text("nickname"), .text("text"), .text("C")],
                [.text("city"), .text("text"), .text("C")],
                [.text("born"), .text("timestamp with time zone"), .text("")],
                [.text("score"), .text("double precision"), .text("")],
                [.text("active"), .text("boolean"), .text("")],
            ])
        }
    }

    // MARK: - Prepared statements

    @Test("a statement is prepared once per connection and parameter types")
    func preparedStatementCache() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            let sql = "SELECT $1::bigint + 1 AS next"
            let count = "SELECT name FROM pg_prepared_statements WHERE statement = $1 ORDER BY name"
            let names = try await db.shard.withConnection { connection in
                let a = try connection.run(Statement(sql, [.int(1)], resultTypes: [.int]))
                let b = try connection.run(Statement(sql, [.int(2)], resultTypes: [.int]))
                let c = try connection.run(Statement(sql, [.int(3)]))
                guard a.rows == [[.int(2)]], b.rows == [[.int(3)]], c.rows == [[.int(4)]] else { return [a, b, c].map(\.rows.description) }
                let once = try connection.run(Statement(count, [.text(sql)], resultTypes: [.text]))
                // A null parameter has another declared type (server-inferred), so another statement.
                _ = try connection.run(Statement(sql, [.null], resultTypes: [.int]))
                let twice = try connection.run(Statement(count, [.text(sql)], resultTypes: [.text]))
                return [once.rows.description, twice.rows.description]
            }
            #expect(names == [[[ShardValue.text("s1")]].description, [[ShardValue.text("s1")], [.text("s3")]].description])
        }
    }

    @Test("a prepared statement deallocated behind the cache is prepared again")
    func preparedStatementDeallocated() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            let sql = "SELECT $1::text || '!' AS shout"
            try await db.shard.withConnection { connection in
                let statement = Statement(sql, [.text("hi")], resultTypes: [.text])
                _ = try connection.run(statement)
                // The comment hides the DEALLOCATE from the connection's own bookkeeping.
                try connection.execute("/* hidden */ DEALLOCATE ALL")
                let again = try connection.run(statement)
                guard again.rows == [[.text("hi!")]] else { throw PostgresTestFailure("re-prepare outside a transaction: \(again.rows)") }

                // In a transaction the failure aborts it, so it is reported; after the rollback
                // the statement is prepared again.
                try connection.execute("/* hidden */ DEALLOCATE ALL")
                try connection.begin(recordingChanges: false)
                do {
                    _ = try connection.run(statement)
                    throw PostgresTestFailure("expected 26000 inside a transaction")
                } catch let error as BackendError {
                    guard error.backendCode == "26000", error.cause == .refused else { throw error }
                }
                try connection.rollback()
                let afterRollback = try connection.run(statement)
                guard afterRollback.rows == [[.text("hi!")]] else { throw PostgresTestFailure("after rollback: \(afterRollback.rows)") }

                // A DEALLOCATE the connection sees empties its cache: no failure even in a transaction.
                try connection.execute("DEALLOCATE ALL")
                try connection.begin(recordingChanges: false)
                let inTransaction = try connection.run(statement)
                try connection.commit()
                guard inTransaction.rows == [[.text("hi!")]] else { throw PostgresTestFailure("after DEALLOCATE: \(inTransaction.rows)") }
            }
        }
    }

    @Test("the cache deallocates its oldest statements past its limit")
    func preparedStatementLimit() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            let total = PostgresConnection.preparedLimit + 40
            let counts = try await db.shard.withConnection { connection in
                for n in 0..<total {
                    let result = try connection.run(Statement("SELECT $1::bigint + \(n)", [.int(1)], resultTypes: [.int]))
                    guard result.rows == [[.int(Int64(n + 1))]] else { throw PostgresTestFailure("statement \(n): \(result.rows)") }
                }
                let count = try connection.run(Statement("SELECT count(*) FROM pg_prepared_statements", resultTypes: [.int]))
                // The oldest still works (prepared anew).
                let oldest = try connection.run(Statement("SELECT $1::bigint + 0", [.int(1)], resultTypes: [.int]))
                return [count.rows[0][0], oldest.rows[0][0]]
            }
            guard case .int(let prepared) = counts[0] else { Issue.record("count: \(counts)"); return }
            #expect(prepared <= Int64(PostgresConnection.preparedLimit))
            #expect(prepared >= Int64(PostgresConnection.preparedLimit) - 1)
            #expect(counts[1] == .int(1))
        }
    }

    // MARK: - Transactions

    @Test("commit, rollback and savepoints")
    func transactions() async throws {
        try await PostgresTestDatabase.with { db in
            try await db.execute("CREATE TABLE acct (id BIGINT PRIMARY KEY, v TEXT)")
            let insert = "INSERT INTO acct (id, v) VALUES ($1, $2)"
            let ids = try await db.shard.withConnection { connection -> [ShardValue] in
                let postgres = try #require((connection as? CountingConnection)?.inner as? PostgresConnection)
                guard !postgres.isInTransaction else { throw PostgresTestFailure("in a transaction before BEGIN") }
                try connection.begin(recordingChanges: false)
                _ = try connection.run(Statement(insert, [.int(1), .text("kept")]))
                guard postgres.isInTransaction else { throw PostgresTestFailure("not in a transaction after BEGIN") }
                try connection.commit()
                guard !postgres.isInTransaction else { throw PostgresTestFailure("in a transaction after COMMIT") }

                try connection.begin(recordingChanges: false)
                _ = try connection.run(Statement(insert, [.int(2), .text("rolled back")]))
                try connection.rollback()

                try connection.begin(recordingChanges: false)
                _ = try connection.run(Statement(insert, [.int(3), .text("before savepoint")]))
                try connection.savepoint("sp")
                _ = try connection.run(Statement(insert, [.int(4), .text("undone")]))
                try connection.rollbackToSavepoint("sp")
                _ = try connection.run(Statement(insert, [.int(5), .text("after")]))
                try connection.releaseSavepoint("sp")
                try connection.commit()

                // A constraint violation undone by its savepoint leaves the transaction usable.
                try connection.begin(recordingChanges: false)
                try connection.savepoint("write")
                do {
                    _ = try connection.run(Statement(insert, [.int(1), .text("duplicate")]))
                    throw PostgresTestFailure("expected a duplicate key")
                } catch let error as BackendError where error.code == .constraintViolation {
                    try connection.rollbackToSavepoint("write")
                }
                _ = try connection.run(Statement(insert, [.int(6), .text("after violation")]))
                try connection.commit()

                // inTransaction rolls back when its body throws.
                _ = try? connection.inTransaction {
                    _ = try connection.run(Statement(insert, [.int(7), .text("thrown away")]))
                    throw PostgresTestFailure("rollback please")
                }

                let rows = try connection.run(Statement("SELECT id FROM acct ORDER BY id", resultTypes: [.int]))
                return rows.rows.map { $0[0] }
            }
            #expect(ids == [.int(1), .int(3), .int(5), .int(6)])
        }
    }

    @Test("an aborted transaction refuses statements until rolled back")
    func abortedTransaction() async throws {
        try await PostgresTestDatabase.with { db in
            let codes = try await db.shard.withConnection { connection -> [String?] in
                try connection.begin(recordingChanges: false)
                var codes: [String?] = []
                do { _ = try connection.run(Statement("SELEC 1")) } catch let error as BackendError { codes.append(error.backendCode) }
                do { _ = try connection.run(Statement("SELECT 1")) } catch let error as BackendError { codes.append(error.backendCode) }
                try connection.rollback()
                let ok = try connection.run(Statement("SELECT 1", resultTypes: [.int]))
                codes.append(ok.rows == [[.int(1)]] ? "ok" : "wrong")
                return codes
            }
            #expect(codes == ["42601", "25P02", "ok"])
        }
    }

    @Test("a leased connection's transaction is invisible to others until it commits")
    func leaseIsolation() async throws {
        try await PostgresTestDatabase.with(poolSize: 2) { db in
            try await db.execute("CREATE TABLE iso (id BIGINT PRIMARY KEY)")
            let lease = try await db.shard.lease()
            try await lease.run { connection in
                try connection.begin(recordingChanges: false)
                _ = try connection.run(Statement("INSERT INTO iso VALUES ($1)", [.int(1)]))
            }
            let before = try await db.run("SELECT count(*) FROM iso", [], [.int])
            try await lease.run { try $0.commit() }
            await lease.release()
            let after = try await db.run("SELECT count(*) FROM iso", [], [.int])
            #expect(before.rows == [[.int(0)]])
            #expect(after.rows == [[.int(1)]])
        }
    }

    @Test("waitingForLocks bounds a wait for a table's lock, and the session's bound is reset after it")
    func waitingForLocksBoundsTheWait() async throws {
        try await PostgresTestDatabase.with(poolSize: 2) { db in
            try await db.execute("CREATE TABLE lk (id BIGINT PRIMARY KEY)")
            let holder = try await db.shard.lease()
            try await holder.run { connection in
                try connection.begin(recordingChanges: false)
                try connection.execute("LOCK TABLE lk IN ACCESS SHARE MODE")
            }
            // Had the ALTER waited unbounded, this commit would have let it through.
            let release = Task {
                try await Task.sleep(for: .seconds(3))
                try await holder.run { try $0.commit() }
            }
            let setting = try await db.shard.withConnection { connection in
                let error = #expect(throws: BackendError.self) {
                    try connection.waitingForLocks(atMostMs: 200) {
                        try connection.inTransaction { try connection.execute("ALTER TABLE lk ADD COLUMN note TEXT") }
                    }
                }
                #expect(error?.cause == .timedOut && error?.backendCode == "55P03", "\(String(describing: error))")
                #expect(!connection.isInTransaction)
                return try connection.run(Statement("SHOW lock_timeout", resultTypes: [.text])).rows
            }
            #expect(setting == [[.text("0")]])
            try await release.value
            await holder.release()
        }
    }

    // MARK: - Errors

    @Test("statement errors map to protocol codes with SQLSTATE, SQL and message")
    func errorMapping() async throws {
        try await PostgresTestDatabase.with { db in
            let syntax = await #expect(throws: BackendError.self) { _ = try await db.run("SELEC 1") }
            #expect(syntax?.cause == .refused)
            #expect(syntax?.backendCode == "42601")
            #expect(syntax?.sql == "SELEC 1")
            #expect(syntax?.message.contains("syntax error") == true)

            let missing = await #expect(throws: BackendError.self) { try await db.execute("DROP TABLE nowhere") }
            #expect(missing?.cause == .refused)
            #expect(missing?.backendCode == "42P01")
            #expect(missing?.sql == "DROP TABLE nowhere")

            let division = await #expect(throws: BackendError.self) { _ = try await db.run("SELECT 1 / $1::bigint", [.int(0)]) }
            #expect(division?.code == .invalidValue)
            #expect(division?.backendCode == "22012")

            let overflow = await #expect(throws: BackendError.self) {
                _ = try await db.run("SELECT $1::bigint + 1", [.int(.max)], [.int])
            }
            #expect(overflow?.code == .invalidValue)

            let timeout = await #expect(throws: BackendError.self) {
                try await db.shard.withConnection { connection in
                    try connection.execute("SET statement_timeout = 100")
                    defer { try? connection.execute("RESET statement_timeout") }
                    _ = try connection.run(Statement("SELECT pg_sleep(5)"))
                }
            }
            #expect(timeout?.code == .timeout)
            #expect(timeout?.backendCode == "57014")
        }
    }

    @Test("a terminated backend is shard_unavailable, marks the connection broken, and the pool replaces it")
    func lostConnection() async throws {
        try await PostgresTestDatabase.with(poolSize: 2) { db in
            let lease = try await db.shard.lease()
            let pid = try await lease.run { try $0.run(Statement("SELECT pg_backend_pid()", resultTypes: [.int])).rows[0][0] }
            let terminated = try await db.run("SELECT pg_terminate_backend($1::int4)", [pid], [.bool])
            #expect(terminated.rows == [[.bool(true)]])
            #expect(db.shard.poolUse.open == 2)

            let (error, broken) = try await lease.run { connection -> (BackendError?, Bool) in
                var failure: BackendError?
                for _ in 0..<50 where failure == nil {
                    // The server may not have closed the socket yet: try until it has.
                    do { _ = try connection.run(Statement("SELECT 1")) } catch let error as BackendError { failure = error }
                    usleep(20_000)
                }
                return (failure, connection.isBroken)
            }
            #expect(error?.code == .shardUnavailable)
            #expect(error?.shard == db.shard.name)
            #expect(broken)
            await lease.release()
            // The broken connection is dropped, and the idle one with it: a lost connection
            // usually means a restarted server, whose other connections are dead too.
            #expect(db.shard.poolUse.open == 0, "the broken connection and the idle ones are dropped")
            let again = try await db.run("SELECT 1", [], [.int])
            #expect(again.rows == [[.int(1)]])
        }
    }

    @Test("a closed connection refuses statements")
    func closedConnection() async throws {
        let url = try PostgresTestDatabase.baseURL()
        let error = try await blocking { () -> BackendError? in
            let connection = try PostgresConnection.connect(uri: url, shard: "closing")
            connection.close()
            connection.close()
            do throws(BackendError) { _ = try connection.run(Statement("SELECT 1")) } catch { return error }
            return nil
        }
        #expect(error?.code == .shardUnavailable)
    }

    // MARK: - Connecting

    @Test("the session is UTF-8 and UTC whether or not the URI sets options; the URI's own values win")
    func sessionSettings() async throws {
        let base = try PostgresTestDatabase.baseURL()
        let separator = base.contains("?") ? "&" : "?"
        let plain = base + separator + "application_name=custom-app"
        let withOptions = base + separator + "options=-c%20TimeZone%3DAsia/Tokyo%20-c%20DateStyle%3DGerman"
        let settings = try await blocking { () -> [[ShardValue]] in
            var rows: [[ShardValue]] = []
            for uri in [plain, withOptions] {
                let connection = try PostgresConnection.connect(uri: uri, shard: "settings")
                defer { connection.close() }
                let result = try connection.run(Statement(
                    """
                    SELECT current_setting('TimeZone'), current_setting('client_encoding'),
                           current_setting('application_name'), current_setting('DateStyle'),
                           '2026-11-21T09:30:00.25Z'::timestamptz
                    """))
                rows.append(result.rows[0])
            }
            return rows
        }
        let instant = ShardValue.timestamp(timestamp("2026-11-21T09:30:00.25Z"))
        #expect(settings[0] == [.text("UTC"), .text("UTF8"), .text("custom-app"), .text("ISO, YMD"), instant])
        #expect(settings[1] == [.text("UTC"), .text("UTF8"), .text("shardd"), .text("ISO, YMD"), instant])
    }

    @Test("a wrong password is shard_unavailable with libpq's reason and without the password")
    func wrongPassword() async throws {
        let base = try PostgresTestDatabase.baseURL()
        let secret = "Wr0ng-s3cret-Passw0rd"
        var components = try #require(URLComponents(string: base))
        components.password = secret
        let inUserInfo = try #require(components.string)
        components.password = nil
        let inQuery = try #require(components.string) + (base.contains("?") ? "&" : "?") + "password=\(secret)"

        for uri in [inUserInfo, inQuery] {
            let error = try await blocking { () -> BackendError? in
                do throws(BackendError) {
                    _ = try PostgresConnection.connect(uri: uri, shard: "pg-secret")
                    return nil
                } catch {
                    return error
                }
            }
            let failure = try #require(error, "connecting with a wrong password succeeded")
            #expect(failure.code == .shardUnavailable)
            #expect(failure.shard == "pg-secret")
            #expect(failure.message.contains("password authentication failed"), "\(failure.message)")
            #expect(!failure.message.contains(secret), "\(failure.message)")
            #expect(!failure.description.contains(secret))
        }

        // Through a shard, the error reaches the caller and the pool holds nothing.
        let shard = PostgresTestDatabase.makeShard(name: "pg-secret", uri: inUserInfo)
        let pooled = await #expect(throws: BackendError.self) {
            try await shard.withConnection { _ in 1 }
        }
        #expect(pooled?.code == .shardUnavailable)
        #expect(pooled?.message.contains(secret) == false)
        #expect(shard.poolUse.open == 0)
        shard.close()
    }

    @Test("an unreachable server, an unknown database or a malformed URI fail quickly as shard_unavailable")
    func unreachable() async throws {
        let base = try PostgresTestDatabase.baseURL()
        var components = try #require(URLComponents(string: base))
        components.port = 1
        let closedPort = try #require(components.string)
        components = try #require(URLComponents(string: base))
        components.path = "/no_such_database_here"
        let unknownDatabase = try #require(components.string)
        // A listener on loopback that completes the TCP handshake and never answers: only
        // libpq's connect_timeout can end the wait.
        let silent = try SilentListener()
        defer { silent.close() }
        let blackhole = "postgresql://shardd:s3cr3t-pw@127.0.0.1:\(silent.port)/shardd_test?connect_timeout=2"
        let malformed = "postgresql://shardd:s3cr3t-pw@127.0.0.1:1/shardd_test?no_such_parameter=1"

        for (uri, reason, limit) in [
            // Bounds that catch a hang (no connect timeout) without racing a loaded machine.
            (closedPort, "refused", 60.0), (unknownDatabase, "no_such_database_here", 60.0),
            (blackhole, "timeout", 60.0), (malformed, "no_such_parameter", 60.0),
        ] {
            let clock = ContinuousClock()
            let start = clock.now
            let error = try await blocking { () -> BackendError? in
                do throws(BackendError) {
                    _ = try PostgresConnection.connect(uri: uri, shard: "pg-away")
                    return nil
                } catch {
                    return error
                }
            }
            let elapsed = clock.now - start
            let failure = try #require(error, "\(uri) connected")
            #expect(failure.code == .shardUnavailable)
            #expect(failure.shard == "pg-away")
            if !reason.isEmpty {
                #expect(failure.message.contains(reason), "\(failure.message)")
            }
            #expect(!failure.message.contains("s3cr3t-pw"), "\(failure.message)")
            #expect(elapsed < .seconds(limit), "\(uri) took \(elapsed)")
        }
    }

    // MARK: - Pool

    @Test("a pool of two serves eight concurrent tasks")
    func poolUnderConcurrency() async throws {
        try await PostgresTestDatabase.with(poolSize: 2) { db in
            try await db.execute("CREATE TABLE hits (task BIGINT PRIMARY KEY, pid BIGINT)")
            let pids = try await withThrowingTaskGroup(of: ShardValue.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        try await db.shard.withConnection { connection in
                            let pid = try connection.run(Statement("SELECT pg_backend_pid()::bigint FROM (SELECT pg_sleep(0.05)) AS pause", resultTypes: [.int]))
                            _ = try connection.run(Statement("INSERT INTO hits VALUES ($1, $2)", [.int(Int64(task)), pid.rows[0][0]]))
                            return pid.rows[0][0]
                        }
                    }
                }
                var all: [ShardValue] = []
                for try await pid in group { all.append(pid) }
                return all
            }
            #expect(pids.count == 8)
            #expect(Set(pids).count <= 2)
            #expect(db.shard.poolUse.open <= 2)
            #expect(db.shard.poolUse.inUse == 0)
            let count = try await db.run("SELECT count(*) FROM hits", [], [.int])
            #expect(count.rows == [[.int(8)]])
        }
    }
}

private struct PostgresTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
