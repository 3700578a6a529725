import ShardCore

extension Shard {
    /// The shard described by `spec`, with the backend its URL names. Opens no connection:
    /// connections are made on first use.
    package static func open(_ spec: ShardSpec) -> Shard {
        let name = spec.name
        switch spec.location {
        case .sqlite(let path):
            return Shard(spec: spec, dialect: .sqlite) { () throws(ShardError) in
                try SQLiteConnection.open(path: path, shard: name)
            }
        case .postgres(let uri):
            return Shard(spec: spec, dialect: .postgres) { () throws(ShardError) in
                try PostgresConnection.connect(uri: uri, shard: name)
            }
        }
    }
}
