import CSQLite
import ShardCore

/// The four arithmetic operators of computed values (protocol.md 7) as SQLite functions
/// with PostgreSQL's meaning: null in, null out; int with int stays int, truncating toward
/// zero on division, and fails on overflow; otherwise real, failing when the result is not
/// finite; a division by zero fails. A failure is SQLITE_MISMATCH (`invalid_value`), so the
/// statement changes nothing.
enum SQLiteArithmetic {
    static func functionName(_ op: ComputedValue.Arithmetic) -> String {
        switch op {
        case .add: "shardd_add"
        case .subtract: "shardd_subtract"
        case .multiply: "shardd_multiply"
        case .divide: "shardd_divide"
        }
    }

    /// Registers the functions on a new connection.
    static func register(on db: OpaquePointer) {
        for (index, op) in ComputedValue.Arithmetic.allCases.enumerated() {
            // The operator travels as the function's user data: its index + 1 (never null).
            sqlite3_create_function_v2(db, functionName(op), 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                       UnsafeMutableRawPointer(bitPattern: index + 1), { context, _, arguments in
                guard let context, let arguments,
                      let index = sqlite3_user_data(context).map({ Int(bitPattern: $0) - 1 })
                else { return }
                SQLiteArithmetic.apply(ComputedValue.Arithmetic.allCases[index], context, arguments[0], arguments[1])
            }, nil, nil, nil)
        }
    }

    private static func apply(_ op: ComputedValue.Arithmetic, _ context: OpaquePointer, _ left: OpaquePointer?, _ right: OpaquePointer?) {
        let leftType = sqlite3_value_type(left), rightType = sqlite3_value_type(right)
        if leftType == SQLITE_NULL || rightType == SQLITE_NULL {
            sqlite3_result_null(context)
            return
        }
        if leftType == SQLITE_INTEGER && rightType == SQLITE_INTEGER {
            switch integer(op, sqlite3_value_int64(left), sqlite3_value_int64(right)) {
            case .success(let value): sqlite3_result_int64(context, value)
            case .failure(let reason): fail(context, reason)
            }
            return
        }
        switch real(op, sqlite3_value_double(left), sqlite3_value_double(right)) {
        case .success(let value): sqlite3_result_double(context, value)
        case .failure(let reason): fail(context, reason)
        }
    }

    /// Checked int arithmetic, as PostgreSQL's int8 operators.
    static func integer(_ op: ComputedValue.Arithmetic, _ a: Int64, _ b: Int64) -> Result<Int64, Failure> {
        let (value, overflow): (Int64, Bool)
        switch op {
        case .add: (value, overflow) = a.addingReportingOverflow(b)
        case .subtract: (value, overflow) = a.subtractingReportingOverflow(b)
        case .multiply: (value, overflow) = a.multipliedReportingOverflow(by: b)
        case .divide:
            guard b != 0 else { return .failure(Failure("division by zero")) }
            // Swift's / truncates toward zero; only Int64.min / -1 overflows.
            (value, overflow) = a.dividedReportingOverflow(by: b)
        }
        return overflow ? .failure(Failure("integer out of range: \(a) \(op.rawValue) \(b)")) : .success(value)
    }

    /// Real arithmetic, failing where PostgreSQL's float8 operators do.
    static func real(_ op: ComputedValue.Arithmetic, _ a: Double, _ b: Double) -> Result<Double, Failure> {
        let value: Double
        switch op {
        case .add: value = a + b
        case .subtract: value = a - b
        case .multiply: value = a * b
        case .divide:
            guard b != 0 else { return .failure(Failure("division by zero")) }
            value = a / b
        }
        return value.isFinite ? .success(value) : .failure(Failure("value out of range: \(a) \(op.rawValue) \(b) overflows a real"))
    }

    struct Failure: Error, Equatable {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private static func fail(_ context: OpaquePointer, _ failure: Failure) {
        sqlite3_result_error(context, failure.reason, -1)
        sqlite3_result_error_code(context, SQLITE_MISMATCH)
    }
}
