import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

@Suite struct IndexOrderTests {
    /// An `index = true` column serves `order_by` with `limit` on both backends: the plan reads
    /// the index instead of sorting the table (PostgreSQL's default index order put nulls last,
    /// the opposite of shardd's order, and every top-N query sorted the whole table).
    @Test(arguments: TestBackend.allCases)
    func orderByLimitReadsTheIndex(_ backend: TestBackend) async throws {
        let model = Model(name: "Reading", table: "readings",
                          columns: [Column(name: "id", type: .int, nullable: false), Column(name: "value", type: .real, index: true)],
                          primaryKey: ["id"], id: .shardLocal, shardBy: nil)
        let shard = try await TestShard.make(backend, model: model, rows: [])
        defer { shard.drop() }
        let dialect = shard.shard.dialect
        let order = dialect.orderByClause([SortKey(column: "value", descending: true)])
        let plan = try await shard.shard.withConnection { connection in
            _ = try dialect.insertMany(model, columns: ["value"], rows: (0..<2000).map { [$0 % 10 == 0 ? .null : .real(Double($0))] }).map { try connection.run($0) }
            if backend == .postgres { try connection.execute("ANALYZE readings") }
            let explain = backend == .postgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN "
            return try connection.run(Statement(explain + "SELECT * FROM readings ORDER BY \(order) LIMIT 10")).rows
                .map { $0.map(\.description).joined(separator: " ") }.joined(separator: "\n")
        }
        #expect(plan.contains("readings_value_idx"), "\(plan)")
        #expect(!plan.contains("Sort") && !plan.contains("TEMP B-TREE"), "\(plan)")
    }
}
