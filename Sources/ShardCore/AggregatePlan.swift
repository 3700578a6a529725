import ShardProtocol

/// An `aggregate` request (protocol.md 8) planned for shards: which partials each shard
/// computes in SQL, and how the daemon combines them exactly.
///
/// Each shard returns one row per group: the group columns, then the partials. `avg` is
/// computed from a sum and a count (never an average of averages); sums of ints stay ints
/// and refuse to overflow; `min`/`max` combine with `ShardValue`'s order (text by UTF-8 bytes).
///
/// A shard sums an int column in two halves, `x >> 32` and `x & 0xFFFFFFFF`, each of which
/// fits 64 bits over up to 2^31 rows, so no shard's sum can overflow (SQLite would fail the
/// statement, telling it apart from other failures only by its message); the daemon adds
/// the halves exactly (128 bits) and refuses a total outside the int range.
package struct AggregatePlan: Sendable {
    package enum Function: String, Sendable, CaseIterable {
        case count, sum, min, max, avg
    }

    /// One `[fn, col, alias?]` of `select`.
    package struct Item: Sendable, Equatable {
        package var function: Function
        /// nil for `count` of `"*"`.
        package var column: Column?
        package var alias: String
        /// The type of the item's value in the answer.
        package var type: ColumnType
        /// Indexes of this item's partials in `partials`.
        package var partialIndexes: [Int]
    }

    /// One value a shard computes per group.
    package struct Partial: Sendable, Equatable {
        package enum Kind: Sendable, Equatable {
            case countRows, count, min, max
            /// The sum of a real column.
            case sum
            /// The sums of an int column's high 32 bits (arithmetic shift) and of its low 32 bits.
            case sumHigh, sumLow
        }
        package var kind: Kind
        /// nil for `countRows`.
        package var column: Column?
        /// The type the shard returns it in.
        package var type: ColumnType
    }

    package let model: Model
    package let groupBy: [Column]
    package let items: [Item]
    package let partials: [Partial]

    /// Reads `select` and `group_by` against the model.
    package init(model: Model, select: JSONValue, groupBy: JSONValue?) throws(ShardError) {
        self.model = model
        var groups: [Column] = []
        switch groupBy {
        case nil, .null?:
            break
        case .array(let names)?:
            for name in names {
                guard case .string(let name) = name else { throw ShardError(.badRequest, "group_by is a list of column names") }
                let column = try AggregatePlan.column(name, of: model)
                guard !groups.contains(column) else { throw ShardError(.badRequest, "group_by names \(name) twice") }
                groups.append(column)
            }
        default:
            throw ShardError(.badRequest, "group_by is a list of column names, e.g. [\"location_id\"]")
        }
        guard case .array(let list) = select, !list.isEmpty else {
            throw ShardError(.badRequest, "select is a non-empty list of [fn, column] or [fn, column, alias], e.g. [[\"avg\", \"temperature\"], [\"count\", \"*\"]]")
        }
        var items: [Item] = []
        var partials: [Partial] = []
        func partial(_ p: Partial) -> Int {
            if let index = partials.firstIndex(of: p) { return index }
            partials.append(p)
            return partials.count - 1
        }
        for entry in list {
            guard case .array(let parts) = entry, parts.count == 2 || parts.count == 3,
                  case .string(let fn) = parts[0], case .string(let columnName) = parts[1]
            else {
                throw ShardError(.badRequest, "each select item is [fn, column] or [fn, column, alias] with strings, e.g. [\"sum\", \"temperature\", \"total\"]")
            }
            guard let function = Function(rawValue: fn) else {
                throw ShardError(.badRequest, "\"\(fn)\" is not an aggregate function (functions: count, sum, min, max, avg)")
            }
            var alias: String
            if parts.count == 3 {
                guard case .string(let given) = parts[2], !given.isEmpty else { throw ShardError(.badRequest, "an alias is a non-empty string") }
                alias = given
            } else {
                alias = columnName == "*" ? "count" : "\(fn)_\(columnName)"
            }
            let item: Item
            if columnName == "*" {
                guard function == .count else { throw ShardError(.badRequest, "\"*\" only goes with count; \(fn) needs a column") }
                item = Item(function: .count, column: nil, alias: alias, type: .int,
                            partialIndexes: [partial(Partial(kind: .countRows, column: nil, type: .int))])
            } else {
                let column = try AggregatePlan.column(columnName, of: model)
                switch function {
                case .count:
                    item = Item(function: function, column: column, alias: alias, type: .int,
                                partialIndexes: [partial(Partial(kind: .count, column: column, type: .int))])
                case .sum, .avg:
                    guard column.type == .int || column.type == .real else {
                        throw ShardError(.badRequest, "\(fn) needs a number column; \(column.name) is \(column.type.rawValue)")
                    }
                    let sums = column.type == .int
                        ? [partial(Partial(kind: .sumHigh, column: column, type: .int)), partial(Partial(kind: .sumLow, column: column, type: .int))]
                        : [partial(Partial(kind: .sum, column: column, type: column.type))]
                    if function == .sum {
                        item = Item(function: function, column: column, alias: alias, type: column.type, partialIndexes: sums)
                    } else {
                        item = Item(function: function, column: column, alias: alias, type: .real,
                                    partialIndexes: sums + [partial(Partial(kind: .count, column: column, type: .int))])
                    }
                case .min, .max:
                    item = Item(function: function, column: column, alias: alias, type: column.type,
                                partialIndexes: [partial(Partial(kind: function == .min ? .min : .max, column: column, type: column.type))])
                }
            }
            guard !items.contains(where: { $0.alias == alias }), !groups.contains(where: { $0.name == alias }) else {
                throw ShardError(.badRequest, "the answer would have two columns named \"\(alias)\"; give an alias as the third element")
            }
            items.append(item)
        }
        self.groupBy = groups
        self.items = items
        self.partials = partials
    }

    private static func column(_ name: String, of model: Model) throws(ShardError) -> Column {
        guard let column = model.column(named: name) else {
            throw ShardError(.unknownColumn, "\(model.name) has no column \"\(name)\" (columns: \(model.columns.map(\.name).joined(separator: ", ")))",
                             details: [("column", .string(name))])
        }
        return column
    }

    /// The answer's columns: the group columns, then the items' aliases. `having` and
    /// `order_by` are read against these.
    package var resultColumns: [Column] {
        groupBy.map { Column(name: $0.name, type: $0.type) } + items.map { Column(name: $0.alias, type: $0.type) }
    }

    /// A model of the answer's rows, for parsing `having` and `order_by` over it.
    package var resultModel: Model {
        Model(name: "\(model.name) aggregate", table: model.table, columns: resultColumns, primaryKey: [], id: .client, shardBy: nil)
    }

    /// The types of each shard row: the group columns, then the partials.
    package var shardRowTypes: [ColumnType] {
        groupBy.map(\.type) + partials.map(\.type)
    }

    /// Combines the shards' rows (group columns, then partials) into one row per group
    /// (group columns, then items), groups in order of first appearance.
    /// - Throws: `invalid_value` when a sum of ints leaves the signed 64-bit range.
    package func combine(_ shards: [[[ShardValue]]]) throws(ShardError) -> [[ShardValue]] {
        var order: [[ShardValue]] = []
        var groups: [[ShardValue]: [Accumulator]] = [:]
        let width = groupBy.count
        for rows in shards {
            for row in rows {
                let key = Array(row[..<width])
                if groups[key] == nil {
                    groups[key] = partials.map { Accumulator(kind: $0.kind, type: $0.type) }
                    order.append(key)
                }
                for index in partials.indices {
                    try groups[key]![index].add(row[width + index])
                }
            }
        }
        // An aggregate without group_by answers one row even when no shard had any.
        if groupBy.isEmpty && order.isEmpty {
            order = [[]]
            groups[[]] = partials.map { Accumulator(kind: $0.kind, type: $0.type) }
        }
        return try order.map { key throws(ShardError) -> [ShardValue] in
            let accumulators = groups[key]!
            var out = key
            for item in items {
                out.append(try finish(item, accumulators))
            }
            return out
        }
    }

    private func finish(_ item: Item, _ accumulators: [Accumulator]) throws(ShardError) -> ShardValue {
        let first = accumulators[item.partialIndexes[0]]
        switch item.function {
        case .count:
            return .int(first.count)
        case .min, .max:
            return first.extreme
        case .sum:
            guard first.seen else { return .null }
            if item.type == .real { return .real(first.realSum) }
            let total = first.intSum + accumulators[item.partialIndexes[1]].intSum
            guard let sum = Int64(exactly: total) else {
                throw ShardError(.invalidValue, "sum(\(item.column!.name)) is \(total), outside the signed 64-bit range of an int",
                                 details: [("column", .string(item.column!.name))])
            }
            return .int(sum)
        case .avg:
            let count = accumulators[item.partialIndexes.last!].count
            guard count > 0 else { return .null }
            if item.column!.type == .real { return .real(first.realSum / Double(count)) }
            return .real(Double(first.intSum + accumulators[item.partialIndexes[1]].intSum) / Double(count))
        }
    }

    /// One partial, combined over shards.
    private struct Accumulator {
        let kind: Partial.Kind
        let type: ColumnType
        var count: Int64 = 0
        var intSum: Int128 = 0
        var realSum: Double = 0
        var seen = false
        var extreme: ShardValue = .null

        init(kind: Partial.Kind, type: ColumnType) {
            self.kind = kind
            self.type = type
        }

        mutating func add(_ value: ShardValue) throws(ShardError) {
            switch (kind, value) {
            case (_, .null):
                return
            case (.countRows, .int(let n)), (.count, .int(let n)):
                count += n
            case (.sumHigh, .int(let n)):
                intSum += Int128(n) << 32
                seen = true
            case (.sumLow, .int(let n)):
                intSum += Int128(n)
                seen = true
            case (.sum, .real(let d)):
                realSum += d
                seen = true
            case (.min, _):
                if extreme == .null || value < extreme { extreme = value }
            case (.max, _):
                if extreme == .null || extreme < value { extreme = value }
            default:
                throw ShardError(.internal, "a shard returned \(value.messageText) for a \(kind) partial")
            }
        }
    }
}
