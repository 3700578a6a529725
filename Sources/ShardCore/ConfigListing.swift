/// The running configuration as `shardctl config` lists it: one setting per key path, its
/// value as shards.conf would spell it (passwords redacted), and what a change to it needs.
package struct ConfigListing: Sendable {
    /// What changing a setting takes.
    package enum Reload: String, Sendable {
        /// A reload applies it.
        case live
        /// Only a restart applies it (a reload refuses the change).
        case restart
        /// Neither: the rows depend on it (a model's table, key, id); it is set back or the
        /// rows are moved by hand.
        case fixed
    }

    package struct Setting: Sendable, Equatable {
        package var key: String
        package var value: String
        package var reload: Reload
    }

    package private(set) var settings: [Setting] = []

    package init(_ configuration: Configuration) {
        for (key, value) in Self.serverValues(configuration.server) {
            add("server.\(key)", value, ConfigChange.isLive(key) ? .live : .restart)
        }
        for shard in configuration.shards {
            let path = "shards.\(shard.name)"
            add("\(path).url", ConfigLoader.quoted(shard.location.redacted) + (shard.urlEnv.map { " (from $\($0))" } ?? ""), .restart)
            add("\(path).pool_size", String(shard.poolSize), .live)
            add("\(path).drain", String(shard.drain), .live)
        }
        for model in configuration.models {
            let path = "models.\(model.name)"
            add("\(path).table", ConfigLoader.quoted(model.table), .fixed)
            add("\(path).primary_key", "[" + model.primaryKey.map(ConfigLoader.quoted).joined(separator: ", ") + "]", .fixed)
            add("\(path).id", ConfigLoader.quoted(model.id.rawValue), .fixed)
            if let shard = model.sequenceShard { add("\(path).sequence_shard", ConfigLoader.quoted(shard), .restart) }
            // The rule's kind and column are fixed; a map's or ranges' owners are edited live
            // (placement.differs, then rebalance).
            add("\(path).shard_by", model.shardBy?.summary ?? "(none: rows placed one by one)", model.shardBy.map { $0.isHead } == true ? .live : .fixed)
            for column in model.columns {
                var parts = [column.type.rawValue]
                if !column.nullable { parts.append("nullable = false") }
                if column.unique { parts.append("unique") }
                if column.index { parts.append("index") }
                if let value = column.defaultValue { parts.append("default = \(value)") }
                if let value = column.serverDefault { parts.append("server_default = \(value)") }
                if column.onUpdateNow { parts.append("on_update = \"now\"") }
                add("\(path).columns.\(column.name)", parts.joined(separator: ", "), .live)
            }
            for relationship in model.relationships {
                add("\(path).relationships.\(relationship.name)", "\(relationship.model) by \(relationship.foreignKey)", .live)
            }
        }
    }

    /// Every `[server]` key with its value as shards.conf spells it, in config.md's order:
    /// also what `ConfigChange` compares, so that a key listed is a key a reload sees change.
    static func serverValues(_ server: ServerSettings) -> [(key: String, value: String)] {
        let uids: ([UInt32]?) -> String = { $0.map { "[" + $0.map(String.init).joined(separator: ", ") + "]" } ?? "(the daemon's uid)" }
        return [
            ("socket", ConfigLoader.quoted(server.socket)), ("socket_mode", ConfigLoader.quoted("0" + String(server.socketMode, radix: 8))),
            ("allowed_uids", uids(server.allowedUIDs)), ("admin_uids", uids(server.adminUIDs)),
            ("state_dir", ConfigLoader.quoted(server.stateDir)), ("create_tables", String(server.createTables)),
            ("commit", ConfigLoader.quoted(server.commit.rawValue)), ("allow_raw_sql", String(server.allowRawSQL)),
            ("max_line_bytes", String(server.maxLineBytes)), ("max_connections", String(server.maxConnections)),
            ("max_result_rows", String(server.maxResultRows)), ("identity_map_limit", String(server.identityMapLimit)),
            ("request_timeout_ms", String(server.requestTimeoutMs)), ("idle_transaction_timeout_ms", String(server.idleTransactionTimeoutMs)),
            ("metrics_listen", server.metricsListen.map { ConfigLoader.quoted($0.description) } ?? "(none)"),
            ("metrics_public", String(server.metricsPublic)),
            ("move_pause_ms", String(server.movePauseMs)), ("move_switch_timeout_ms", String(server.moveSwitchTimeoutMs)),
        ]
    }

    private mutating func add(_ key: String, _ value: String, _ reload: Reload) {
        settings.append(Setting(key: key, value: value, reload: reload))
    }
}
