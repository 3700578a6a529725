import Dispatch
import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport

/// The test PostgreSQL server (started by scripts/test.sh or scripts/postgres.sh) and a
/// fresh schema per test, so that tests running in parallel never see each other's tables.
struct PostgresTestDatabase: Sendable {
    static func baseURL() throws -> String {
        try TestPostgres.baseURL()
    }

    /// The schema this test owns, e.g. `t_3f9a...`.
    let schema: String
    /// The server URL with `search_path` set to `schema`.
    let uri: String
    /// A shard over `uri`.
    let shard: Shard

    /// Creates a schema, runs `body` with a shard whose connections use it, then drops it.
    static func with<T: Sendable>(
        poolSize: Int = 2, _ body: @Sendable (PostgresTestDatabase) async throws -> T
    ) async throws -> T {
        let base = try baseURL()
        let schema = "t_" + String(UInt64.random(in: .min ... .max), radix: 16)
        try await admin(base, "CREATE SCHEMA \(schema)")
        let uri = TestPostgres.url(base, schema: schema)
        let shard = makeShard(name: "pg-\(schema)", uri: uri, poolSize: poolSize)
        let database = PostgresTestDatabase(schema: schema, uri: uri, shard: shard)
        do {
            let result = try await body(database)
            shard.close()
            try await admin(base, "DROP SCHEMA \(schema) CASCADE")
            return result
        } catch {
            shard.close()
            try? await admin(base, "DROP SCHEMA \(schema) CASCADE")
            throw error
        }
    }

    static func makeShard(name: String, uri: String, poolSize: Int = 2) -> Shard {
        Shard(
            spec: ShardSpec(name: name, location: .postgres(uri: uri), poolSize: poolSize),
            dialect: .postgres,
            factory: { () throws(BackendError) -> any ShardConnection in
                try PostgresConnection.connect(uri: uri, shard: name)
            })
    }

    private static func admin(_ uri: String, _ sql: String) async throws {
        try await blocking {
            let connection = try PostgresConnection.connect(uri: uri, shard: "test-admin")
            defer { connection.close() }
            try connection.execute(sql)
        }
    }

    /// Runs one statement on a pooled connection.
    func run(_ sql: String, _ params: [ShardValue] = [], _ types: [ColumnType]? = nil) async throws -> QueryResult {
        try await shard.withConnection { try $0.run(Statement(sql, params, resultTypes: types)) }
    }

    func execute(_ sql: String) async throws {
        try await shard.withConnection { try $0.execute(sql) }
    }
}

extension PostgresTestDatabase {
    /// Runs blocking work (a direct libpq connection) off the async executors.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    static func timestamp(_ text: String) -> Timestamp {
        try! Timestamp(rfc3339: text)
    }
}
