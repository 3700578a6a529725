import ShardProtocol

/// Why a new row was refused; `code` is a protocol error code (protocol.md 10).
package struct RowError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case unknownColumn = "unknown_column"
        case invalidValue = "invalid_value"
    }

    package var code: Code
    package var column: String
    package var message: String

    package var description: String { "\(code.rawValue): \(message)" }
}

extension Model {
    /// The values of a new row, checked and completed for insertion: every name is a column,
    /// every value fits its column (protocol.md 3), a missing column gets its `default` (at
    /// `now`), is left to its `server_default` (no entry: the shard fills it), or is null, and
    /// the primary key follows the model's id strategy.
    ///
    /// With `id = "client"` the caller must give every primary-key column. With `sequence`
    /// and `shard_local` the key is made by the daemon or the shard, so a given one is
    /// refused: an id chosen outside the counter could later be handed out again.
    /// The returned row has no entry for a key that is still to be made.
    package func newRow(_ values: [String: ShardValue], now: Timestamp = .wallClock()) throws(RowError) -> [String: ShardValue] {
        // The first unknown by name, without a sort per row (a tenth of a bulk add's decoding).
        if let name = values.keys.filter({ column(named: $0) == nil }).min() {
            throw RowError(code: .unknownColumn, column: name,
                           message: "\(self.name) has no column \"\(name)\" (columns: \(columns.map(\.name).joined(separator: ", ")))")
        }
        let madeKey = id != .client
        var row: [String: ShardValue] = [:]
        row.reserveCapacity(columns.count)
        let keyPositions = primaryKeyPositions
        for (position, column) in columns.enumerated() {
            let isKey = keyPositions.contains(position)
            let given = values[column.name]
            if isKey && madeKey {
                if let given, !given.isNull {
                    throw RowError(code: .invalidValue, column: column.name,
                                   message: "\(name).\(column.name) is made by \(id == .sequence ? "the daemon's sequence" : "the shard") (id = \"\(id.rawValue)\"); leave it out, or use id = \"client\" to give keys")
                }
                continue
            }
            guard let given else {
                if isKey {
                    throw RowError(code: .invalidValue, column: column.name,
                                   message: "\(name).\(column.name) is required: the client gives the primary key (id = \"client\")")
                }
                if let value = column.defaultValue {
                    row[column.name] = value.value(at: now)
                } else if column.serverDefault != nil {
                    // Left out of the INSERT: the shard's DEFAULT fills it, and RETURNING says how.
                } else if !column.nullable {
                    throw RowError(code: .invalidValue, column: column.name,
                                   message: "\(name).\(column.name) is required (the column is not nullable and has no default or server_default)")
                } else {
                    row[column.name] = .null
                }
                continue
            }
            do {
                row[column.name] = try given.checked(for: column.type, nullable: column.nullable && !isKey, column: column.name)
            } catch {
                throw RowError(code: .invalidValue, column: column.name, message: "\(name).\(error.description)")
            }
        }
        return row
    }
}
