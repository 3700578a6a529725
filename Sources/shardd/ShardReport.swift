import ShardStore

/// The `--check` table: one aligned line per shard.
struct ShardReport {
    var statuses: [ShardSet.ShardStatus]

    var allUsable: Bool { statuses.allSatisfy { $0.error == nil } }

    var lines: [String] {
        let rows = statuses.map { status -> [String] in
            let state: String
            if let error = status.error {
                state = (error.cause == .unreachable ? "unreachable: " : "unusable: ") + error.message
            } else if let prepared = status.maxPreparedTransactions {
                state = "reachable (tables ready, max_prepared_transactions \(prepared), \(Int(status.elapsedMs.rounded())) ms)"
            } else {
                state = "reachable (tables ready, \(Int(status.elapsedMs.rounded())) ms)"
            }
            return [status.shard.name, status.shard.dialect.backend.rawValue, status.shard.spec.location.redacted, state]
        }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[3]
        }
    }
}
