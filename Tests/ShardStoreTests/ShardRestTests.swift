import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

@Suite struct ShardRestTests {
    /// A shard at rest frees its idle connections' caches once per quiet spell, and its
    /// connections go on serving afterwards.
    @Test(arguments: TestBackend.allCases)
    func idleConnectionsReleaseOncePerQuietSpell(_ backend: TestBackend) async throws {
        let model = Model(name: "Reading", table: "readings", columns: [Column(name: "id", type: .int, nullable: false)],
                          primaryKey: ["id"], id: .client, shardBy: nil)
        let shard = try await TestShard.make(backend, model: model, rows: [[.int(1)], [.int(2)]])
        defer { shard.drop() }
        #expect(await shard.shard.releaseMemoryIfIdle(for: .seconds(60)) == false)
        #expect(await shard.shard.releaseMemoryIfIdle(for: .zero))
        #expect(await shard.shard.releaseMemoryIfIdle(for: .zero) == false)
        let rows = try await shard.shard.withConnection { try $0.run(Statement("SELECT id FROM readings ORDER BY id", resultTypes: [.int])).rows }
        #expect(rows == [[.int(1)], [.int(2)]])
        #expect(await shard.shard.releaseMemoryIfIdle(for: .zero))
    }
}
