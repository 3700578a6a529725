/// What a reload of shards.conf would change (protocol.md 14), worked out without I/O: the
/// key paths that differ between the running configuration and the file, each applied live
/// or refused with the reason. The I/O (new shards connected, tables migrated, rows counted
/// on a removed shard) is the daemon's, after this says yes.
package struct ConfigChange: Sendable, Equatable {
    /// A key path the reload cannot apply, and what to do instead.
    package struct Refusal: Sendable, Equatable, CustomStringConvertible {
        package var path: String
        package var reason: String

        package var description: String { "\(path): \(reason)" }
    }

    /// Key paths applied live, in file order.
    package private(set) var applied: [String] = []
    /// Key paths refused; any one keeps the whole file from being applied.
    package private(set) var refused: [Refusal] = []
    /// Shards the file no longer has (applied only if they hold nothing: the daemon checks).
    package private(set) var removedShards: [String] = []
    /// Shards the file adds.
    package private(set) var addedShards: [String] = []

    package var isEmpty: Bool { applied.isEmpty && refused.isEmpty }

    /// `[server]` keys that only a restart applies, with why.
    package static let restartOnly: [String: String] = [
        "socket": "the daemon listens there; a restart moves it",
        "socket_mode": "the socket file was made with it; a restart applies it",
        "state_dir": "the commit log, placement and jobs live there; a restart (with the files moved) changes it",
        "metrics_listen": "the metrics listener is bound there; a restart moves it",
        "metrics_public": "it goes with metrics_listen, which a restart applies",
        "commit": "open transactions were begun under it, and two_phase needs every PostgreSQL connection checked for prepared transactions; a restart applies it",
    ]

    /// Whether the `[server]` key, or any key under `shards` and `models`, is applied by a
    /// reload (some changes of model keys are refused even so: see `between`).
    package static func isLive(_ serverKey: String) -> Bool {
        restartOnly[serverKey] == nil
    }

    /// The change from `running` to `file`.
    package static func between(_ running: Configuration, _ file: Configuration) -> ConfigChange {
        var change = ConfigChange()
        change.compareServer(running.server, file.server)
        change.compareShards(running.shards, file.shards)
        change.compareModels(running.models, file.models, defaultBuckets: 1024 * file.shards.count)
        return change
    }

    private mutating func apply(_ path: String) {
        applied.append(path)
    }

    private mutating func refuse(_ path: String, _ reason: String) {
        refused.append(Refusal(path: path, reason: reason))
    }

    // MARK: - [server]

    private mutating func compareServer(_ old: ServerSettings, _ new: ServerSettings) {
        for (before, after) in zip(ConfigListing.serverValues(old), ConfigListing.serverValues(new)) where before.value != after.value {
            if let why = Self.restartOnly[after.key] {
                refuse("server.\(after.key)", "restart-only: \(why)")
            } else {
                apply("server.\(after.key)")
            }
        }
    }

    // MARK: - [shards]

    private mutating func compareShards(_ old: [ShardSpec], _ new: [ShardSpec]) {
        for spec in new {
            let path = "shards.\(spec.name)"
            guard let before = old.first(where: { $0.name == spec.name }) else {
                addedShards.append(spec.name)
                apply(path)
                continue
            }
            if before.location != spec.location {
                refuse("\(path).url", "changing a shard's url is not applied live (the rows are at the old one): add the new database as another shard, move this one's units to it (shardctl move / drain and rebalance), then remove this one")
            }
            if before.poolSize != spec.poolSize { apply("\(path).pool_size") }
            if before.drain != spec.drain { apply("\(path).drain") }
        }
        for spec in old where !new.contains(where: { $0.name == spec.name }) {
            removedShards.append(spec.name)
            apply("shards.\(spec.name)")
        }
    }

    // MARK: - [models]

    private mutating func compareModels(_ old: [Model], _ new: [Model], defaultBuckets: Int) {
        for model in new {
            let path = "models.\(model.name)"
            guard let before = old.first(where: { $0.name == model.name }) else {
                apply(path)
                continue
            }
            let fixed = "cannot change while the daemon runs, nor without moving every row: set it back"
            if before.table != model.table { refuse("\(path).table", "\(ConfigLoader.quoted(before.table)) to \(ConfigLoader.quoted(model.table)): the rows are in the old table; \(fixed)") }
            if before.primaryKey != model.primaryKey { refuse("\(path).primary_key", "identity keys and the tables are made of it; \(fixed)") }
            if before.id != model.id { refuse("\(path).id", "\(before.id.rawValue) to \(model.id.rawValue): the existing keys were made the old way; \(fixed)") }
            if before.sequenceShard != model.sequenceShard {
                refuse("\(path).sequence_shard", "restart-only: the id counter is kept there, and a restart moves it above the existing ids")
            }
            compareShardBy(before.shardBy, model.shardBy, at: "\(path).shard_by", defaultBuckets: defaultBuckets)
            compareColumns(before, model, at: path)
            for relationship in model.relationships where !before.relationships.contains(relationship) {
                apply("\(path).relationships.\(relationship.name)")
            }
            for relationship in before.relationships where !model.relationships.contains(where: { $0.name == relationship.name }) {
                apply("\(path).relationships.\(relationship.name)")
            }
        }
        for model in old where !new.contains(where: { $0.name == model.name }) {
            refuse("models.\(model.name)", "removing a model is not applied live (sessions may hold its rows); restart shardd to remove it (its table stays on the shards)")
        }
    }

    /// - Parameter defaultBuckets: the bucket count of a hash rule that gives none (it follows
    ///   the shards: a new shard changes it, and the placed count stays).
    private mutating func compareShardBy(_ old: ShardBy?, _ new: ShardBy?, at path: String, defaultBuckets: Int) {
        guard old != new else { return }
        switch (old, new) {
        case (.map(let a, _, _)?, .map(let b, _, _)?) where a == b,
             (.ranges(let a, _)?, .ranges(let b, _)?) where a == b:
            // Shown in placement.differs until a rebalance moves the rows.
            apply(path)
        case (.hash(let a, let x)?, .hash(let b, let y)?) where a == b:
            // The owners of buckets are the placement's, not the file's.
            if x.count != y.count && y.count != defaultBuckets {
                refuse("\(path).buckets", "\(x.count) to \(y.count): rows are placed by their bucket, a number that can never change; set it back")
            }
        default:
            refuse(path, "the rows are placed \(old?.summary ?? "one by one (no shard_by)"), and the file says \(new?.summary ?? "no shard_by"); shardd cannot re-place rows under another rule or column: set it back")
        }
    }

    private mutating func compareColumns(_ old: Model, _ new: Model, at path: String) {
        for column in new.columns {
            let columnPath = "\(path).columns.\(column.name)"
            guard let before = old.columns.first(where: { $0.name == column.name }) else {
                apply(columnPath)
                continue
            }
            guard before != column else { continue }
            var refusedHere = false
            if before.type != column.type {
                refuse("\(columnPath).type", "\(before.type.rawValue) to \(column.type.rawValue): shardd does not change a column's type; add a new column instead")
                refusedHere = true
            }
            if before.nullable && !column.nullable {
                refuse("\(columnPath).nullable", "a column does not become nullable = false in place (existing rows may hold null); add a new column with a server_default instead")
                refusedHere = true
            }
            if before.serverDefault != column.serverDefault {
                refuse("\(columnPath).server_default", "the SQL default of an existing column is not changed; set it back, or add a new column")
                refusedHere = true
            }
            if !refusedHere { apply(columnPath) }
        }
        for column in old.columns where !new.columns.contains(where: { $0.name == column.name }) {
            // Left on the shards (config.md "Changing the schema").
            apply("\(path).columns.\(column.name)")
        }
    }
}
