import ShardCore
import ShardProtocol

extension Shard {
    /// The shard described by `spec`, with the backend its URL names. Opens no connection:
    /// connections are made on first use.
    /// - Parameter statementTimeoutMs: how long one statement may run (`request_timeout_ms`),
    ///   and how long a caller waits for a pooled connection; nil: unbounded.
    /// - Parameter requirePreparedTransactions: atomic commits need PostgreSQL's prepared
    ///   transactions: a connection to a server without them fails, saying what to do.
    package static func open(_ spec: ShardSpec, statementTimeoutMs: Int? = nil, requirePreparedTransactions: Bool = false) -> Shard {
        let name = spec.name
        let timeout = StatementTimeout(statementTimeoutMs)
        switch spec.location {
        case .sqlite(let path):
            return Shard(spec: spec, dialect: SQLDialect(for: spec.location), timeout: timeout) { () throws(BackendError) in
                try SQLiteConnection.open(path: path, shard: name, statementTimeoutMs: timeout.milliseconds)
            }
        case .postgres(let uri):
            return Shard(spec: spec, dialect: SQLDialect(for: spec.location), timeout: timeout) { () throws(BackendError) in
                try PostgresConnection.connect(uri: uri, shard: name, statementTimeoutMs: timeout.milliseconds,
                                               requirePreparedTransactions: requirePreparedTransactions)
            }
        }
    }
}
