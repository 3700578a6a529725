import ShardCore
import ShardProtocol

/// The SET list of `update` / `update_where`, computed values included (protocol.md 7).
///
/// PostgreSQL's own operators already mean what the protocol says: int8 arithmetic that
/// overflows and any division by zero fail with SQLSTATE 22003 / 22012 (`invalid_value`), and
/// int8 / int8 truncates toward zero. SQLite's do not (an int overflow silently becomes a
/// real, a division by zero gives null), so on SQLite each operator is a function of the
/// connection's (`SQLiteArithmetic`) that checks both and fails with SQLITE_MISMATCH.
extension SQLDialect {
    /// `"c" = <value or computation>, ...`, values appended to `parameters`.
    package func assignments(_ changes: [(column: String, value: Assignment)], parameters: inout [ShardValue]) -> String {
        changes.map { column, value in
            "\(SQLDialect.quote(column)) = " + assigned(value, parameters: &parameters)
        }.joined(separator: ", ")
    }

    private func assigned(_ assignment: Assignment, parameters: inout [ShardValue]) -> String {
        switch assignment {
        case .value(let value): bind(value, &parameters)
        case .computed(let computed): expression(computed, parameters: &parameters)
        }
    }

    private func bind(_ value: ShardValue, _ parameters: inout [ShardValue]) -> String {
        parameters.append(value)
        return placeholder(parameters.count)
    }

    private func expression(_ computed: ComputedValue, parameters: inout [ShardValue]) -> String {
        func operand(_ operand: ComputedValue.Operand) -> String {
            switch operand {
            case .value(let value): bind(value, &parameters)
            case .computed(let inner): expression(inner, parameters: &parameters)
            }
        }
        switch computed {
        case .arithmetic(let op, let column, let right):
            let left = SQLDialect.quote(column)
            let rightSQL = operand(right)
            switch backend {
            case .sqlite: return "\(SQLiteArithmetic.functionName(op))(\(left), \(rightSQL))"
            case .postgres: return "(\(left) \(op.rawValue) \(rightSQL))"
            }
        case .concat(let column, let right):
            return "(\(SQLDialect.quote(column)) || \(operand(right)))"
        }
    }
}
