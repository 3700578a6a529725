import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing
@testable import ShardStore

/// The value model of protocol.md 3, proved the same on SQLite and PostgreSQL.
@Suite struct BackendValueTests {
    static let model = Model(
        name: "Sample", table: "samples",
        columns: [
            Column(name: "id", type: .int, nullable: false),
            Column(name: "i", type: .int),
            Column(name: "r", type: .real),
            Column(name: "t", type: .text),
            Column(name: "b", type: .bool),
            Column(name: "ts", type: .timestamp),
        ],
        primaryKey: ["id"], id: .client, shardBy: nil
    )
    static let types: [ColumnType] = [.int, .int, .real, .text, .bool, .timestamp]

    static func ts(_ text: String) -> ShardValue { .timestamp(try! Timestamp(rfc3339: text)) }

    static let rows: [[ShardValue]] = [
        [.int(1), .int(.min), .real(-0.0), .text(""), .bool(false), ts("1969-12-31T23:59:59.999999Z")],
        [.int(2), .int(.max), .real(.leastNonzeroMagnitude), .text("emoji 😀 family 👩‍👩‍👧 flag 🇯🇵"), .bool(true), ts("0001-01-01T00:00:00Z")],
        [.int(3), .int(0), .real(.greatestFiniteMagnitude), .text("e\u{301} vs \u{E9}, Z\u{327}\u{30C}"), .null, ts("9999-12-31T23:59:59.999999Z")],
        [.int(4), .int(-1), .real(0.1), .text("quotes ' \" backslash \\ \\\\ %_ tab\t newline\n cr\r"), .bool(true), ts("2026-11-21T09:30:00.123456Z")],
        [.int(5), .null, .real(-.pi), .text("日本語 Ελληνικά עברית \u{10FFFF} \u{FEFF}"), .bool(false), ts("1900-02-28T23:59:59.000001Z")],
        [.int(6), .int(42), .null, .null, .null, .null],
        [.int(7), .int(7), .real(.leastNormalMagnitude / 1024), .text("B"), .bool(true), ts("1970-01-01T00:00:00Z")],
        [.int(8), .int(8), .real(123456789.125), .text("a"), .bool(false), ts("2000-01-01T00:00:00Z")],
    ]


    func load(_ backend: TestBackend) async throws -> TestShard {
        try await TestShard.make(backend, model: Self.model, rows: Self.rows)
    }

    @Test(arguments: TestBackend.allCases)
    func everyTypeRoundTripsExactly(backend: TestBackend) async throws {
        let fixture = try await load(backend)
        defer { fixture.drop() }
        let back = try await fixture.shard.withConnection { connection in
            try connection.run(Statement("SELECT id, i, r, t, b, ts FROM samples ORDER BY id", resultTypes: Self.types)).rows
        }
        #expect(back == Self.rows)
        // == cannot see the sign of zero or a double's last bit: compare the bits. -0.0 is
        // stored as 0.0 on every backend (SQLite cannot keep the sign of zero).
        for (got, sent) in zip(back, Self.rows) {
            if case .real(let a) = got[2], case .real(let b) = sent[2] { #expect(a.bitPattern == (b == 0 ? 0 : b).bitPattern) }
            if case .text(let a) = got[3], case .text(let b) = sent[3] { #expect(Array(a.utf8) == Array(b.utf8)) }
        }
    }

    @Test(arguments: TestBackend.allCases, ["t", "ts", "r", "i", "b"])
    func orderByIsTheOneOrder(backend: TestBackend, column: String) async throws {
        let fixture = try await load(backend)
        defer { fixture.drop() }
        let index = ["id", "i", "r", "t", "b", "ts"].firstIndex(of: column)!
        let dialect = fixture.shard.dialect
        for descending in [false, true] {
            let sql = "SELECT id FROM samples ORDER BY \(dialect.orderTerm(column, descending: descending)), id"
            let got = try await fixture.shard.withConnection { try $0.run(Statement(sql, resultTypes: [.int])).rows.map { $0[0] } }
            // The reference: ShardValue's order (null first; text by UTF-8 bytes), ties by id.
            let expected = Self.rows.sorted { a, b in
                if a[index] == b[index] { return a[0] < b[0] }
                return descending ? b[index] < a[index] : a[index] < b[index]
            }.map { $0[0] }
            #expect(got == expected, "ORDER BY \(column) \(descending ? "DESC" : "ASC") on \(backend)")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func comparisonsInWhereUseByteOrder(backend: TestBackend) async throws {
        let fixture = try await load(backend)
        defer { fixture.drop() }
        let dialect = fixture.shard.dialect
        let sql = "SELECT id FROM samples WHERE t > \(dialect.placeholder(1)) ORDER BY id"
        let got = try await fixture.shard.withConnection {
            try $0.run(Statement(sql, [.text("Z")], resultTypes: [.int])).rows.map { $0[0] }
        }
        let expected = Self.rows.filter { $0[3] != .null && ShardValue.text("Z") < $0[3] }.map { $0[0] }
        #expect(got == expected)
        #expect(got.contains(.int(8)) && !got.contains(.int(7)))
    }

    @Test(arguments: TestBackend.allCases, [Double.nan, .infinity, -.infinity])
    func nonFiniteDoublesAreRefused(backend: TestBackend, value: Double) async throws {
        let fixture = try await load(backend)
        defer { fixture.drop() }
        let dialect = fixture.shard.dialect
        let error = await #expect(throws: BackendError.self) {
            try await fixture.shard.withConnection { connection in
                _ = try connection.run(dialect.insert(Self.model, [("id", .int(99)), ("r", .real(value))]))
            }
        }
        #expect(error?.code == .invalidValue)
        let count = try await fixture.shard.withConnection { try $0.run(Statement("SELECT count(*) FROM samples", resultTypes: [.int])).rows }
        #expect(count == [[.int(Int64(Self.rows.count))]])
    }
}
