import ShardCore
import ShardProtocol

/// The daemon's own tables on every shard, and PostgreSQL's prepared transactions: what an
/// atomic commit writes beside the models' rows (protocol.md 6.1).
///
/// - `shardd_commits` holds one marker row per cross-shard transaction, written inside the
///   shard's own transaction: the shard committed it exactly when the marker is there.
/// - `shardd_labels` holds the labels clients gave to commits, written inside the commit,
///   for `transaction_status`; kept 24 hours.
extension SQLDialect {
    package static let markerTable = "shardd_commits"
    package static let labelTable = "shardd_labels"

    /// `CREATE TABLE IF NOT EXISTS` of both tables (they take no lock when they exist, so
    /// they run before recovery).
    package var commitTables: [String] {
        let text = sqlType(.text), int = sqlType(.int)
        return [
            "CREATE TABLE IF NOT EXISTS \(SQLDialect.markerTable) (txid \(text) PRIMARY KEY)",
            "CREATE TABLE IF NOT EXISTS \(SQLDialect.labelTable) (txid \(text) PRIMARY KEY, label \(text) NOT NULL, committed_at \(int) NOT NULL)",
        ]
    }

    /// The labels' index. PostgreSQL's `CREATE INDEX IF NOT EXISTS` locks the table even
    /// when the index exists, and would wait for a prepared transaction that wrote a label:
    /// it runs after recovery.
    package var commitIndexes: [String] {
        ["CREATE INDEX IF NOT EXISTS \(SQLDialect.labelTable)_label_idx ON \(SQLDialect.labelTable) (label)"]
    }

    package func insertMarker(_ txid: TransactionID) -> Statement {
        Statement("INSERT INTO \(SQLDialect.markerTable) (txid) VALUES (\(placeholder(1)))", [.text(txid.description)])
    }

    /// Every marker on the shard (few: each lives from a commit until its completion).
    package var selectMarkers: Statement {
        Statement("SELECT txid FROM \(SQLDialect.markerTable)", resultTypes: [.text])
    }

    package func deleteMarkers(_ txids: [TransactionID]) -> [Statement] {
        stride(from: 0, to: txids.count, by: SQLDialect.inListChunk).map { start in
            let chunk = txids[start..<min(start + SQLDialect.inListChunk, txids.count)]
            let markers = (1...chunk.count).map(sequentialPlaceholder).joined(separator: ", ")
            return Statement("DELETE FROM \(SQLDialect.markerTable) WHERE txid IN (\(markers))", chunk.map { .text($0.description) })
        }
    }

    package func insertLabel(_ label: String, txid: TransactionID, at time: Timestamp) -> Statement {
        Statement("INSERT INTO \(SQLDialect.labelTable) (txid, label, committed_at) VALUES (\(placeholder(1)), \(placeholder(2)), \(placeholder(3)))",
                  [.text(txid.description), .text(label), .int(time.microseconds)])
    }

    /// Whether a commit with `label` happened at or after `since`.
    package func selectLabel(_ label: String, since: Timestamp) -> Statement {
        Statement("SELECT count(*) FROM \(SQLDialect.labelTable) WHERE label = \(placeholder(1)) AND committed_at >= \(placeholder(2))",
                  [.text(label), .int(since.microseconds)], resultTypes: [.int])
    }

    package func deleteLabels(before time: Timestamp) -> Statement {
        Statement("DELETE FROM \(SQLDialect.labelTable) WHERE committed_at < \(placeholder(1))", [.int(time.microseconds)])
    }

    // MARK: - PostgreSQL's prepared transactions

    /// Whether a shard's part of a cross-shard commit is a prepared transaction, which
    /// survives a crash; otherwise (SQLite) the decision carries the transaction's changes.
    package var preparesTransactions: Bool {
        backend == .postgres
    }

    package static func prepareTransaction(_ gid: String) -> String { "PREPARE TRANSACTION \(literal(gid))" }
    /// The marker and `PREPARE TRANSACTION` in one simple query: one round trip instead of
    /// two on the commit's path (the id is the daemon's own, quoted all the same).
    package static func insertMarkerAndPrepare(_ txid: TransactionID, gid: String) -> String {
        "INSERT INTO \(markerTable) (txid) VALUES (\(literal(txid.description))); " + prepareTransaction(gid)
    }
    package static func commitPrepared(_ gid: String) -> String { "COMMIT PREPARED \(literal(gid))" }
    package static func rollbackPrepared(_ gid: String) -> String { "ROLLBACK PREPARED \(literal(gid))" }

    /// This database's prepared transactions whose global id starts with `prefix`.
    package static func selectPrepared(prefix: String) -> Statement {
        Statement("SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND starts_with(gid, $1)",
                  [.text(prefix)], resultTypes: [.text])
    }

    package static let maxPreparedTransactions = Statement("SELECT current_setting('max_prepared_transactions')::bigint", resultTypes: [.int])

    /// A SQL string literal (global ids are `[a-z0-9_]`; quoting is belt and braces).
}
