import ShardProtocol

extension Expression {
    /// How deep `and`/`or`/`not` may nest; deeper is refused so that a hostile request
    /// cannot exhaust the stack here or in the SQL it would become.
    package static let maximumDepth = 32

    /// The operators of protocol.md 7, in the order messages list them.
    package static let operators = [
        "=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "like", "starts_with",
        "is_null", "not_null", "and", "or", "not", "any", "has",
    ]

    /// Parses a `where` (protocol.md 7) against `model`.
    ///
    /// Either an object of equalities (`{"continent": "Asia"}`; `{}` means every row) or a
    /// prefix array (`["in", "continent", ["Asia", "Europe"]]`). Operands of `and`, `or` and
    /// `not` may themselves be either form. `= null` means `is_null`, `!= null` `not_null`.
    /// `any` / `has` follow `model`'s relationships to the models of `configuration` (nil:
    /// an expression over a model that has none, such as an aggregate's answer).
    /// - Throws: `unknown_column` for a name the model does not have, `invalid_value` for a
    ///   value that does not fit its column (or a null where no comparison can be true),
    ///   `unknown_relationship` for `any`/`has` of a name the model does not have,
    ///   `bad_request` for anything not shaped like an expression.
    package init(where json: JSONValue, model: Model, configuration: Configuration? = nil) throws(ShardError) {
        self = try ExpressionParser(model: model, configuration: configuration).parse(json, depth: 1)
    }

    /// Whether an `any` / `has` appears anywhere in the expression.
    package var followsRelationships: Bool {
        switch self {
        case .related: true
        case .and(let terms), .or(let terms): terms.contains { $0.followsRelationships }
        case .not(let term): term.followsRelationships
        default: false
        }
    }
}

/// The recursive descent over a `where`, with the model for column checks.
private struct ExpressionParser {
    let model: Model
    let configuration: Configuration?

    func parse(_ json: JSONValue, depth: Int) throws(ShardError) -> Expression {
        guard depth <= Expression.maximumDepth else {
            throw badRequest("the where expression nests deeper than \(Expression.maximumDepth) levels")
        }
        switch json {
        case .object(let object):
            return try parseEqualities(object)
        case .array(let elements):
            return try parsePrefix(elements, depth: depth)
        default:
            throw badRequest(
                "a where expression is an object of equalities ({\"column\": value}) "
                    + "or a prefix array ([\"=\", \"column\", value]), got \(json.summary)")
        }
    }

    /// `{"a": 1, "b": 2}`: `a = 1 AND b = 2`.
    private func parseEqualities(_ object: JSONObject) throws(ShardError) -> Expression {
        var terms: [Expression] = []
        var seen: Set<String> = []
        for (name, json) in object.members {
            guard seen.insert(name).inserted else {
                throw badRequest("column \"\(name)\" appears twice in the where object; use [\"and\", ...] or [\"in\", ...]")
            }
            terms.append(try equality(try column(name), json))
        }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private func parsePrefix(_ elements: [JSONValue], depth: Int) throws(ShardError) -> Expression {
        guard let head = elements.first else {
            throw badRequest("an expression array starts with an operator, e.g. [\"=\", \"column\", value]; got []")
        }
        guard case .string(let op) = head else {
            throw badRequest("an expression array starts with an operator string (one of \(operatorList)), got \(head.summary)")
        }
        let operands = Array(elements.dropFirst())
        switch op {
        case "=", "!=", "<", "<=", ">", ">=":
            try arity(op, operands, 2, "[\"\(op)\", column, value]")
            let comparison = Expression.Comparison(rawValue: op)!
            let column = try columnOperand(op, operands[0])
            switch comparison {
            case .equal:
                return try equality(column, operands[1])
            case .notEqual:
                let value = try value(operands[1], for: column)
                return value.isNull ? .notNull(column: column.name) : .compare(.notEqual, column: column.name, value)
            default:
                return .compare(comparison, column: column.name, try nonNullValue(operands[1], for: column, op))
            }
        case "in", "not_in":
            try arity(op, operands, 2, "[\"\(op)\", column, [value, ...]]")
            let column = try columnOperand(op, operands[0])
            guard case .array(let list) = operands[1] else {
                throw badRequest("\"\(op)\" expects an array of values as its third element, got \(operands[1].summary)")
            }
            var values: [ShardValue] = []
            values.reserveCapacity(list.count)
            for json in list { values.append(try nonNullValue(json, for: column, op)) }
            return op == "in" ? .isIn(column: column.name, values) : .notIn(column: column.name, values)
        case "between":
            try arity(op, operands, 3, "[\"between\", column, low, high]")
            let column = try columnOperand(op, operands[0])
            let low = try nonNullValue(operands[1], for: column, op)
            let high = try nonNullValue(operands[2], for: column, op)
            return .between(column: column.name, low, high)
        case "like", "starts_with":
            let what = op == "like" ? "pattern" : "prefix"
            try arity(op, operands, 2, "[\"\(op)\", column, \(what)]")
            let column = try columnOperand(op, operands[0])
            guard column.type == .text else {
                throw badRequest("\"\(op)\" needs a text column; \(column.name) is \(column.type.rawValue)")
            }
            guard case .string = operands[1] else {
                throw badRequest("\"\(op)\" expects a string \(what) as its third element, got \(operands[1].summary)")
            }
            // Through ShardValue so that text rules (no NUL) apply to patterns too.
            guard case .text(let text) = try ShardValue(json: operands[1], for: column, nullable: false) else {
                preconditionFailure("a string for a text column is text")
            }
            return op == "like" ? .like(column: column.name, pattern: text) : .startsWith(column: column.name, prefix: text)
        case "is_null", "not_null":
            try arity(op, operands, 1, "[\"\(op)\", column]")
            let column = try columnOperand(op, operands[0])
            return op == "is_null" ? .isNull(column: column.name) : .notNull(column: column.name)
        case "and", "or":
            guard !operands.isEmpty else {
                throw badRequest("\"\(op)\" needs at least one expression: [\"\(op)\", expression, ...]")
            }
            var terms: [Expression] = []
            terms.reserveCapacity(operands.count)
            for operand in operands { terms.append(try parse(operand, depth: depth + 1)) }
            return op == "and" ? .and(terms) : .or(terms)
        case "not":
            try arity(op, operands, 1, "[\"not\", expression]")
            return .not(try parse(operands[0], depth: depth + 1))
        case "any", "has":
            return try parseRelated(op, operands, depth: depth)
        default:
            throw badRequest("unknown operator \"\(op)\"; the operators are \(operatorList)")
        }
    }

    /// `["any", rel, e?]` over a to-many relationship, `["has", rel, e?]` over a to-one; `e`
    /// is parsed against the related model.
    private func parseRelated(_ op: String, _ operands: [JSONValue], depth: Int) throws(ShardError) -> Expression {
        guard operands.count == 1 || operands.count == 2 else {
            throw badRequest("\"\(op)\" expects [\"\(op)\", relationship] or [\"\(op)\", relationship, expression]: 2 or 3 elements, got \(operands.count + 1)")
        }
        guard case .string(let name) = operands[0] else {
            throw badRequest("\"\(op)\" expects a relationship name as its second element, got \(operands[0].summary)")
        }
        guard let relationship = model.relationship(named: name), let target = configuration?.model(named: relationship.model) else {
            let names = model.relationships.map(\.name)
            throw ShardError(.unknownRelationship,
                             "\(model.name) has no relationship \"\(name)\" (relationships: \(names.isEmpty ? "none" : names.joined(separator: ", ")))",
                             details: [("relationship", .string(name))])
        }
        let expected = relationship.kind == .toMany ? "any" : "has"
        guard op == expected else {
            let kind = relationship.kind == .toMany ? "to-many" : "to-one"
            throw badRequest("\(model.name).\(name) is a \(kind) relationship: use [\"\(expected)\", \"\(name)\", ...], not \"\(op)\"")
        }
        let condition = operands.count == 2
            ? try ExpressionParser(model: target, configuration: configuration).parse(operands[1], depth: depth + 1) : nil
        return .related(RelatedCondition(relationship: relationship, target: target, condition: condition))
    }

    // MARK: - Operands

    /// `column = json`, with `= null` meaning `is_null`.
    private func equality(_ column: Column, _ json: JSONValue) throws(ShardError) -> Expression {
        let value = try value(json, for: column)
        return value.isNull ? .isNull(column: column.name) : .compare(.equal, column: column.name, value)
    }

    /// A filter value: null is allowed whatever the column's nullability (it just matches nothing).
    private func value(_ json: JSONValue, for column: Column) throws(ShardError) -> ShardValue {
        try ShardValue(json: json, for: column, nullable: true)
    }

    /// A value where null could never match (an ordering bound, a list member).
    private func nonNullValue(_ json: JSONValue, for column: Column, _ op: String) throws(ShardError) -> ShardValue {
        let value = try value(json, for: column)
        guard !value.isNull else {
            let instead = switch op {
            case "in": "; to match nulls too, use [\"or\", [\"in\", ...], [\"is_null\", column]]"
            case "not_in": "; leave it out of the list"
            default: "; use is_null or not_null to test for null"
            }
            throw ShardError(
                .invalidValue,
                "column \(column.name): null cannot be used with \"\(op)\" because a comparison with null is never true\(instead)",
                details: [("column", .string(column.name))])
        }
        return value
    }

    private func columnOperand(_ op: String, _ json: JSONValue) throws(ShardError) -> Column {
        guard case .string(let name) = json else {
            throw badRequest("\"\(op)\" expects a column name as its second element, got \(json.summary)")
        }
        return try column(name)
    }

    private func column(_ name: String) throws(ShardError) -> Column {
        try model.filterColumn(named: name)
    }

    private func arity(_ op: String, _ operands: [JSONValue], _ count: Int, _ shape: String) throws(ShardError) {
        guard operands.count == count else {
            throw badRequest("\"\(op)\" expects \(shape): \(count + 1) elements, got \(operands.count + 1)")
        }
    }

    private var operatorList: String {
        Expression.operators.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    private func badRequest(_ message: String) -> ShardError {
        ShardError(.badRequest, message)
    }
}

extension Model {
    /// The column `name` for a `where` or `order_by`, or `unknown_column` listing the columns.
    func filterColumn(named name: String) throws(ShardError) -> Column {
        guard let column = column(named: name) else {
            throw ShardError(
                .unknownColumn,
                "model \(self.name) has no column \"\(name)\"; its columns are "
                    + columns.map(\.name).joined(separator: ", "),
                details: [("column", .string(name))])
        }
        return column
    }
}
