import Foundation
import ShardCore
import ShardProtocol
import ShardStore

/// The backends every store test runs on.
package enum TestBackend: String, CaseIterable, Sendable {
    case sqlite
    case postgres
}


/// The real PostgreSQL of scripts/test.sh. Tests never skip PostgreSQL: without the server
/// they fail with what to do.
package enum TestPostgres {
    /// `SHARDD_TEST_PG_URL`; the tests fail, not skip, without it.
    package static func baseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["SHARDD_TEST_PG_URL"], !url.isEmpty else {
            throw TestSetupError(
                "SHARDD_TEST_PG_URL is not set: the PostgreSQL tests need a server. Run scripts/test.sh, "
                    + "or eval \"$(scripts/postgres.sh start)\" and then swift test"
            )
        }
        return url
    }

    /// A new, empty schema in the test database, and the URL whose connections use it.
    package static func freshSchemaURL() async throws -> String {
        let base = try baseURL()
        let schema = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let admin = Shard.open(ShardSpec(name: "admin", location: .postgres(uri: base), poolSize: 1))
        defer { admin.close() }
        try await admin.withConnection { try $0.execute("CREATE SCHEMA \(schema)") }
        return url(base, schema: schema)
    }

    /// `base` with `search_path` set to `schema` through libpq's `options`.
    package static func url(_ base: String, schema: String) -> String {
        base + (base.contains("?") ? "&" : "?") + "options=-c%20search_path%3D\(schema)"
    }
}

package struct TestSetupError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// One empty shard of either backend: a temp SQLite file, or a fresh schema in the test
/// PostgreSQL database (tests run in parallel, each in its own schema).
package final class TestShard: Sendable {
    package let shard: Shard
    package let backend: TestBackend
    private let directory: TemporaryDirectory?
    private let schema: String?
    private let admin: Shard?

    private init(shard: Shard, backend: TestBackend, directory: TemporaryDirectory?, schema: String?, admin: Shard?) {
        self.shard = shard
        self.backend = backend
        self.directory = directory
        self.schema = schema
        self.admin = admin
    }

    package static func make(_ backend: TestBackend, name: String = "asia", poolSize: Int = 2) async throws -> TestShard {
        switch backend {
        case .sqlite:
            let directory = TemporaryDirectory()
            let spec = ShardSpec(name: name, location: .sqlite(path: directory.path + "/\(name).db"), poolSize: poolSize)
            return TestShard(shard: Shard.open(spec), backend: backend, directory: directory, schema: nil, admin: nil)
        case .postgres:
            let base = try TestPostgres.baseURL()
            let schema = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
            let admin = Shard.open(ShardSpec(name: "admin", location: .postgres(uri: base), poolSize: 1))
            try await admin.withConnection { try $0.execute("CREATE SCHEMA \(schema)") }
            let spec = ShardSpec(name: name, location: .postgres(uri: TestPostgres.url(base, schema: schema)), poolSize: poolSize)
            return TestShard(shard: Shard.open(spec), backend: backend, directory: nil, schema: schema, admin: admin)
        }
    }

    /// A shard holding `model`'s table with `rows` (values in the model's column order).
    package static func make(_ backend: TestBackend, model: Model, rows: [[ShardValue]]) async throws -> TestShard {
        let fixture = try await make(backend)
        let dialect = fixture.shard.dialect
        try await fixture.shard.withConnection { connection in
            for sql in dialect.createStatements(for: model) { try connection.execute(sql) }
            for row in rows {
                _ = try connection.run(dialect.insert(model, zip(model.columns, row).map { ($0.name, $1) }))
            }
        }
        return fixture
    }

    /// Closes the shard and drops the schema (PostgreSQL) in the background.
    package func drop() {
        shard.close()
        guard let admin, let schema else { return }
        Task {
            _ = try? await admin.withConnection { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
            admin.close()
        }
    }
}

/// Four shards of both backends for daemon tests: `one` and `three` on SQLite, `two` and
/// `four` on PostgreSQL (each in a fresh schema).
package enum MixedShards {
    /// The `[shards.*]` tables; append models to it.
    package static let config = """
        [shards.one]
        url = "sqlite:data/one.db"
        [shards.two]
        url_env = "SHARDD_PG_A"
        [shards.three]
        url = "sqlite:data/three.db"
        [shards.four]
        url_env = "SHARDD_PG_B"

        """

    /// The environment `config` reads its PostgreSQL URLs from.
    package static func environment() async throws -> [String: String] {
        ["SHARDD_PG_A": try await TestPostgres.freshSchemaURL(), "SHARDD_PG_B": try await TestPostgres.freshSchemaURL()]
    }
}
