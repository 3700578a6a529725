import ShardProtocol

extension SortKey {
    /// Parses an `order_by` (protocol.md 7): column names, `"-col"` for descending, each
    /// column at most once.
    /// - Throws: `unknown_column` for a name the model does not have, `bad_request` when
    ///   `json` is not an array of strings, a name is empty or a column is named twice.
    package static func parse(orderBy json: JSONValue, model: Model) throws(ShardError) -> [SortKey] {
        guard case .array(let elements) = json else {
            throw ShardError(.badRequest, "order_by is an array of column names (\"-col\" for descending), got \(json.summary)")
        }
        var keys: [SortKey] = []
        keys.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let term) = element else {
                throw ShardError(
                    .badRequest, "order_by is an array of column names (\"-col\" for descending), got \(element.summary) in it")
            }
            let descending = term.hasPrefix("-")
            let name = descending ? String(term.dropFirst()) : term
            guard !name.isEmpty else {
                throw ShardError(.badRequest, "order_by has an empty column name (\"\(term)\")")
            }
            let column = try model.filterColumn(named: name)
            guard !keys.contains(where: { $0.column == column.name }) else {
                throw ShardError(.badRequest, "order_by names column \(column.name) twice")
            }
            keys.append(SortKey(column: column.name, descending: descending))
        }
        return keys
    }
}
