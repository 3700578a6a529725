import ShardProtocol

/// A value of `update` / `update_where` that each shard computes from the row (protocol.md 7):
/// `["+", col, v]`, `["-", ...]`, `["*", ...]`, `["/", ...]` over int and real columns,
/// `["concat", col, v]` over text, where `v` is a value or another computed value.
/// (`["now"]` is the daemon's clock, parsed to a plain value like `on_update`'s.)
package indirect enum ComputedValue: Sendable, Equatable {
    case arithmetic(Arithmetic, column: String, Operand)
    case concat(column: String, Operand)

    package enum Arithmetic: String, Sendable, Equatable, CaseIterable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
    }

    /// The right-hand side: a bound value or a nested computation.
    package enum Operand: Sendable, Equatable {
        case value(ShardValue)
        case computed(ComputedValue)
    }

    /// The operators of protocol.md 7's computed values, for messages.
    package static let operators = ["+", "-", "*", "/", "concat", "now"]
}

/// What an `update`'s `values` member is: a value, or one each shard computes.
package enum Assignment: Sendable, Equatable {
    case value(ShardValue)
    case computed(ComputedValue)
}

extension Assignment {
    /// The value, when it is not computed.
    package var plainValue: ShardValue? {
        if case .value(let value) = self { value } else { nil }
    }

    package var isPlain: Bool { plainValue != nil }

    /// Parses one member of `update`'s `values` for `column`: a JSON array is a computed
    /// value (`now` is read from `now`), anything else a value of the column's type.
    /// - Throws: `invalid_value` for a value or a computation whose type does not fit
    ///   `column` (an int column takes int arithmetic only: a real result would be rounded),
    ///   `unknown_column` for a column the model does not have, `bad_request` for anything
    ///   not shaped like a computed value.
    package init(json: JSONValue, for column: Column, of model: Model, now: Timestamp) throws(ShardError) {
        guard case .array(let elements) = json else {
            self = .value(try ShardValue(json: json, for: column, nullable: true))
            return
        }
        var parser = ComputedValueParser(model: model, target: column, now: now)
        switch try parser.parse(elements, depth: 1) {
        case .value(let value): self = .value(value)
        case .computed(let computed, let type):
            guard Self.fits(type, column.type) else {
                throw ShardError(.invalidValue,
                                 "column \(column.name) is \(column.type.rawValue) but \(json.summary) computes a \(type.rawValue); "
                                     + (column.type == .int ? "an int column takes arithmetic over int columns and int values only" : "give a computation of its type"),
                                 details: [("column", .string(column.name))])
            }
            self = .computed(computed)
        }
    }

    /// An int result fits a real column (both backends convert it); nothing else crosses types.
    static func fits(_ result: ColumnType, _ column: ColumnType) -> Bool {
        result == column || (result == .int && column == .real)
    }
}

/// The recursive descent over a computed value, typing each level.
private struct ComputedValueParser {
    let model: Model
    let target: Column
    let now: Timestamp

    enum Parsed {
        case value(ShardValue)
        case computed(ComputedValue, ColumnType)
    }

    mutating func parse(_ elements: [JSONValue], depth: Int) throws(ShardError) -> Parsed {
        guard depth <= Expression.maximumDepth else {
            throw badRequest("the computed value nests deeper than \(Expression.maximumDepth) levels")
        }
        guard case .string(let op)? = elements.first else {
            throw badRequest("a computed value is an array that starts with one of \(operatorList), e.g. [\"+\", \"temperature\", 1.5]; got \(JSONValue.array(elements).summary)")
        }
        if op == "now" {
            guard elements.count == 1 else { throw badRequest("[\"now\"] takes no operands") }
            guard target.type == .timestamp else {
                throw ShardError(.invalidValue, "column \(target.name) is \(target.type.rawValue); [\"now\"] is for timestamp columns",
                                 details: [("column", .string(target.name))])
            }
            return .value(.timestamp(now))
        }
        guard op == "concat" || ComputedValue.Arithmetic(rawValue: op) != nil else {
            throw badRequest("unknown computed value operator \"\(op)\"; the operators are \(operatorList)")
        }
        guard elements.count == 3 else {
            throw badRequest("\"\(op)\" expects [\"\(op)\", column, value]: 3 elements, got \(elements.count)")
        }
        guard case .string(let name) = elements[1] else {
            throw badRequest("\"\(op)\" expects a column name as its second element, got \(elements[1].summary)")
        }
        let column = try model.filterColumn(named: name)
        let (operand, operandType) = try self.operand(elements[2], op: op, depth: depth)
        if let arithmetic = ComputedValue.Arithmetic(rawValue: op) {
            guard column.type == .int || column.type == .real else {
                throw mismatch("\"\(op)\" needs an int or real column; \(column.name) is \(column.type.rawValue)")
            }
            guard operandType == .int || operandType == .real else {
                throw mismatch("\"\(op)\" needs a number as its third element, got \(elements[2].summary)")
            }
            let type: ColumnType = column.type == .int && operandType == .int ? .int : .real
            return .computed(.arithmetic(arithmetic, column: column.name, operand), type)
        }
        guard column.type == .text else { throw mismatch("\"concat\" needs a text column; \(column.name) is \(column.type.rawValue)") }
        guard operandType == .text else { throw mismatch("\"concat\" needs text as its third element, got \(elements[2].summary)") }
        return .computed(.concat(column: column.name, operand), .text)
    }

    /// The third element: a nested computation, or a number or text (typed by its JSON).
    private mutating func operand(_ json: JSONValue, op: String, depth: Int) throws(ShardError) -> (ComputedValue.Operand, ColumnType?) {
        switch json {
        case .array(let elements):
            switch try parse(elements, depth: depth + 1) {
            case .computed(let computed, let type): return (.computed(computed), type)
            case .value(let value): return (.value(value), .timestamp)
            }
        case .int(let i): return (.value(.int(i)), .int)
        case .double(let d) where d.isFinite: return (.value(.real(d)), .real)
        case .string(let s) where !s.utf8.contains(0): return (.value(.text(s)), .text)
        case .null: return (.value(.null), nil)
        default: return (.value(.null), nil)
        }
    }

    private var operatorList: String { ComputedValue.operators.map { "\"\($0)\"" }.joined(separator: ", ") }

    private func mismatch(_ message: String) -> ShardError {
        ShardError(.invalidValue, "column \(target.name): \(message)", details: [("column", .string(target.name))])
    }

    private func badRequest(_ message: String) -> ShardError {
        ShardError(.badRequest, message)
    }
}
