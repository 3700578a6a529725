import ShardCore
import ShardProtocol

/// `verify` (protocol.md 9): reads every shard and finds the rows that sit on a shard their
/// placement does not name. Memory stays bounded: head models are read in pages of keys,
/// children are checked by the shard itself (a row whose parent is not beside it).
package struct PlacementVerifier: Sendable {
    package let shards: ShardSet
    /// Routed by the placement (`PlacementMap.routing`).
    package let configuration: Configuration
    /// Keys read per statement.
    package var pageSize = 5000
    /// Strays listed at most (all are counted).
    package var listLimit = 100

    private let order: ShardOrder

    package init(shards: ShardSet, configuration: Configuration) {
        self.shards = shards
        self.configuration = configuration
        self.order = ShardOrder(configuration)
    }

    /// A row where its placement does not put it.
    package struct Stray: Sendable, Equatable {
        package var key: IdentityKey
        /// The shard its placement names; nil when it names none (a null key, a parent not beside it).
        package var wanted: String?
    }

    package struct Result: Sendable {
        package var strays: [Stray] = []
        package var strayCount = 0
        package var checked = 0
        /// Rows per shard per model.
        package var rows: [String: [String: Int]] = [:]
    }

    /// Verifies `models` (all by default) on every shard, one shard after the other.
    package func verify(models only: [String]? = nil) async throws -> Result {
        var result = Result()
        let models = configuration.models.filter { only?.contains($0.name) ?? true }
        for shard in shards.shards {
            for model in models {
                try await verify(model, on: shard, into: &result)
            }
        }
        return result
    }

    private func note(_ stray: Stray, into result: inout Result) {
        result.strayCount += 1
        if result.strays.count < listLimit { result.strays.append(stray) }
    }

    private func verify(_ model: Model, on shard: Shard, into result: inout Result) async throws {
        let dialect = shard.dialect
        switch model.shardBy {
        case .parent(let parentName, let via)?:
            guard let parent = configuration.model(named: parentName) else { return }
            let limit = listLimit
            let (count, orphanCount, keys) = try await shard.withConnection { connection -> (Int64, Int64, [[ShardValue]]) in
                let count = try connection.run(dialect.count(model, where: nil)).rows.first?.first
                let orphans = try connection.run(dialect.orphanCount(model, parent: parent, via: via)).rows.first?.first
                let keys = try connection.run(dialect.orphanKeys(model, parent: parent, via: via, limit: limit)).rows
                return (count?.intValue ?? 0, orphans?.intValue ?? 0, keys)
            }
            result.rows[shard.name, default: [:]][model.name] = Int(count)
            result.checked += Int(count)
            for key in keys { note(Stray(key: IdentityKey(model: model.name, primaryKey: key, token: shard.name), wanted: nil), into: &result) }
            // Counted beyond the ones listed.
            result.strayCount += max(0, Int(orphanCount) - keys.count)
        case let rule?:
            var after: [ShardValue]?
            var count = 0
            while true {
                let statement = dialect.keyPage(model, keyColumn: rule.column, after: after, limit: pageSize)
                let rows = try await shard.withConnection { try $0.run(statement).rows }
                for row in rows {
                    let key = Array(row.dropLast())
                    let wanted = rule.shard(for: row[row.count - 1], shards: order)
                    if wanted != shard.name {
                        note(Stray(key: IdentityKey(model: model.name, primaryKey: key, token: shard.name), wanted: wanted), into: &result)
                    }
                }
                count += rows.count
                guard rows.count == pageSize, let last = rows.last else { break }
                after = Array(last.dropLast())
            }
            result.rows[shard.name, default: [:]][model.name] = count
            result.checked += count
        case nil:
            // Rows go where their requests said: any shard is theirs.
            let count = try await shard.withConnection { try $0.run(dialect.count(model, where: nil)).rows.first?.first }
            result.rows[shard.name, default: [:]][model.name] = Int(count?.intValue ?? 0)
            result.checked += Int(count?.intValue ?? 0)
        }
    }
}
