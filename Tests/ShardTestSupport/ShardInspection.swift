import Foundation
import ShardCore
import ShardProtocol
import ShardStore

/// A daemon's shards read directly (not through the daemon), for tests that assert what is
/// on them after a crash: rows, the daemon's markers, its prepared transactions.
package final class ShardInspection {
    package let configuration: Configuration
    package let shards: [Shard]
    /// The `state_dir` id that the daemon's transactions carry.
    package let instance: String

    package init(_ daemon: Daemon) throws {
        configuration = try ConfigLoader.load(path: daemon.directory.path + "/shards.conf",
                                              environment: ProcessInfo.processInfo.environment.merging(daemon.environment) { $1 })
        shards = configuration.shards.map { Shard.open($0) }
        instance = try String(contentsOfFile: configuration.server.stateDir + "/instance", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    deinit { for shard in shards { shard.close() } }

    package func shard(_ name: String) -> Shard {
        shards.first { $0.name == name }!
    }

    /// The rows a statement returns on one shard.
    package func rows(_ name: String, _ sql: String, _ types: [ColumnType]? = nil) async throws -> [[ShardValue]] {
        let statement = Statement(shard(name).dialect.rawSQL(sql), resultTypes: types)
        return try await shard(name).withConnection { try $0.run(statement).rows }
    }

    /// `count(*)` of a query on one shard.
    package func count(_ name: String, _ sql: String) async throws -> Int64 {
        guard case .int(let n) = try await rows(name, sql, [.int]).first?.first else { return -1 }
        return n
    }

    /// The daemon's markers (`shardd_commits`) on one shard.
    package func markers(_ name: String) async throws -> Int64 {
        try await count(name, "SELECT count(*) FROM shardd_commits")
    }

    /// The daemon's prepared transactions on one shard (0 on SQLite).
    package func prepared(_ name: String) async throws -> Int64 {
        guard shard(name).dialect.backend == .postgres else { return 0 }
        let prefix = "shardd_\(instance)_"
        let statement = Statement("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1) AND gid LIKE $2",
                                  [.text(prefix), .text("%_" + name)], resultTypes: [.int])
        guard case .int(let n) = try await shard(name).withConnection({ try $0.run(statement).rows.first?.first }) else { return -1 }
        return n
    }

    /// Markers and prepared transactions of the daemon on every shard: 0 when nothing of an
    /// atomic commit is left.
    package func leftovers() async throws -> Int64 {
        var total: Int64 = 0
        for shard in shards { total += try await markers(shard.name) + prepared(shard.name) }
        return total
    }
}
