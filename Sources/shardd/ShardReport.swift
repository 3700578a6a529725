import ShardCore
import ShardStore

/// The `--check` table: one aligned line per shard, then how its tables differ from the
/// models, one line per difference.
struct ShardReport {
    var statuses: [ShardSet.ShardStatus]
    var inspections: [SchemaMigration.Inspection]

    var lines: [String] {
        var differences: [String: [String]] = [:]
        let rows = statuses.map { status -> [String] in
            let elapsed = "\(Int(status.elapsedMs.rounded())) ms"
            let prepared = status.maxPreparedTransactions.map { ", max_prepared_transactions \($0)" } ?? ""
            let state: String
            if let error = status.error {
                state = (error.cause == .unreachable ? "unreachable: " : "unusable: ") + error.message
            } else if let inspection = inspections.first(where: { $0.shard === status.shard }) {
                switch inspection.drift {
                case .failure(let error):
                    state = "reachable, tables unreadable: \(error.message)"
                case .success(let drift):
                    differences[status.shard.name] = drift.differences.map { "    \($0.kind.label): \($0)" }
                    if drift.matches {
                        state = "reachable (tables match the models\(prepared), \(elapsed))"
                    } else {
                        let refused = drift.refused.count
                        let additive = drift.additive.count
                        var parts: [String] = []
                        if additive > 0 { parts.append("\(additive) change\(additive == 1 ? "" : "s") for shardd migrate") }
                        if refused > 0 { parts.append("\(refused) refused") }
                        state = "reachable, tables differ from the models: " + parts.joined(separator: ", ") + " (\(elapsed))"
                    }
                }
            } else {
                state = "reachable (\(elapsed))"
            }
            return [status.shard.name, status.shard.dialect.backend.rawValue, status.shard.spec.location.redacted, state]
        }
        let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.flatMap { row in
            [(0..<3).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[3]] + (differences[row[0]] ?? [])
        }
    }
}

extension SchemaDifference.Kind {
    /// How `--check` and `migrate` label it.
    var label: String {
        switch self {
        case .add: "to add"
        case .refuse: "refused"
        case .note: "note"
        }
    }
}
