import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

@Suite struct InsertManyTests {
    static let model = Model(name: "Reading", table: "readings",
                             columns: [Column(name: "id", type: .int, nullable: false), Column(name: "place", type: .int), Column(name: "value", type: .real)],
                             primaryKey: ["id"], id: .shardLocal, shardBy: nil)

    /// SQLite prepares a numbered `?N` by searching the numbers seen so far: a 30,000-parameter
    /// INSERT with `?N` markers took most of a second to prepare. Bare `?` are numbered in order.
    @Test func sqliteGetsBareMarkersPostgresNumberedOnes() {
        let rows = (0..<3).map { [ShardValue.int(Int64($0)), .real(Double($0) / 2)] }
        let sqlite = SQLDialect.sqlite.insertMany(Self.model, columns: ["place", "value"], rows: rows)
        #expect(sqlite.count == 1)
        #expect(sqlite[0].sql.contains("VALUES (?, ?), (?, ?), (?, ?) RETURNING"))
        #expect(sqlite[0].params == rows.flatMap { $0 })
        let postgres = SQLDialect.postgres.insertMany(Self.model, columns: ["place", "value"], rows: rows)
        #expect(postgres[0].sql.contains("VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING"))
    }

    /// The bare markers bind in order on a real shard, across chunks.
    @Test(arguments: TestBackend.allCases)
    func longInsertsRoundTrip(_ backend: TestBackend) async throws {
        let shard = try await TestShard.make(backend, model: Self.model, rows: [])
        defer { shard.drop() }
        let rows = (0..<16_000).map { [ShardValue.int(Int64($0 % 97)), .real(Double($0) / 4)] }
        let statements = shard.shard.dialect.insertMany(Self.model, columns: ["place", "value"], rows: rows)
        #expect(statements.count == 2)
        let returned = try await shard.shard.withConnection { connection in
            try statements.flatMap { try connection.run($0).rows }
        }
        #expect(returned.map { Array($0[1...]) } == rows)
    }
}
