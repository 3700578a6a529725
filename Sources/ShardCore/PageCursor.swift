import ShardProtocol

/// A position in a `query`'s merged order (protocol.md 8.1): the last row a page answered,
/// as the values of its order columns and tiebreak (the primary key columns `order_by` does
/// not name) and the shard that held it, and a fingerprint of the query it belongs to.
///
/// The merged order is `order_by`, then shard (file order), then each shard's own order,
/// which is `order_by` then the tiebreak. So a row of shard X comes after the position when,
/// with `P` the position's shard: X before P, its order values are strictly after; X = P,
/// its order values and tiebreak are strictly after; X after P, its order values are after
/// or equal. Each shard is asked only for those rows (`condition`), and every page costs one
/// bounded query per shard whatever its depth.
package struct PageCursor: Sendable, Equatable {
    /// `PageCursor.fingerprint` of the query's arguments.
    package var fingerprint: UInt64
    package var shard: String
    /// The row's values of `order` + tiebreak columns, in that order.
    package var values: [ShardValue]

    package init(fingerprint: UInt64, shard: String, values: [ShardValue]) {
        self.fingerprint = fingerprint
        self.shard = shard
        self.values = values
    }

    /// The cursor as the opaque string of `next`: its JSON, base64url without padding.
    package var encoded: String {
        let json = JSONValue.array([.string(String(fingerprint, radix: 16)), .string(shard), .array(values.map(\.json))])
        return Base64URL.encode(Array(json.serialized.utf8))
    }

    /// Reads `text` as a cursor of the query with `fingerprint` whose order and tiebreak
    /// columns are `columns`.
    /// - Throws: `bad_request` for a malformed cursor, or one of another query.
    package init(decoding text: String, fingerprint expected: UInt64, columns: [Column]) throws(ShardError) {
        let malformed = ShardError(.badRequest, "after: not a cursor of this daemon; pass the \"next\" of the previous page unchanged")
        guard let bytes = Base64URL.decode(text), let json = try? JSONValue.parse(bytes),
              case .array(let parts) = json, parts.count == 3,
              case .string(let hex) = parts[0], let fingerprint = UInt64(hex, radix: 16),
              case .string(let shard) = parts[1], case .array(let items) = parts[2]
        else { throw malformed }
        guard fingerprint == expected else {
            throw ShardError(.badRequest, "after: this cursor belongs to another query; a cursor continues the query that gave it (same model, where, order_by, shard/shards)")
        }
        guard items.count == columns.count else { throw malformed }
        var values: [ShardValue] = []
        for (item, column) in zip(items, columns) {
            guard let value = try? ShardValue(json: item, for: column, nullable: true) else { throw malformed }
            values.append(value)
        }
        self.init(fingerprint: fingerprint, shard: shard, values: values)
    }

    /// A fingerprint of the arguments that make a query's rows and order (the model, `where`,
    /// `order_by`, `shard` and `shards` as given), so that a cursor is refused elsewhere.
    package static func fingerprint(model: String, _ arguments: [JSONValue?]) -> UInt64 {
        let text = JSONValue.array([.string(model)] + arguments.map { $0 ?? .null }).serialized
        return ShardHash.fnv1a64(text.utf8)
    }

    /// What shard `index` (in file order; the cursor's shard is at `cursorIndex`) must
    /// return to continue after this position, over `order` and `tiebreak` (whose values
    /// `values` holds, in that order), as `segments`: conditions to run in turn, each shard
    /// stopping once it has the rows it needs.
    package func segments(shardIndex index: Int, cursorIndex: Int, order: [SortKey], tiebreak: [SortKey]) -> [Expression] {
        let orderValues = Array(values.prefix(order.count))
        if index < cursorIndex { return Self.segments(order, orderValues, inclusive: false) }
        if index > cursorIndex { return Self.segments(order, orderValues, inclusive: true) }
        return Self.segments(order + tiebreak, values, inclusive: false)
    }

    /// The rows of `after(keys, values, inclusive:)` as disjoint conditions whose rows follow
    /// one another in the order of `keys`: the first bounds the first key by a range
    /// (`k >= v` ascending, `k <= v` descending) beside the exact condition, so that an index
    /// on it serves the page in order; the nulls of that key, which no range holds, are a
    /// segment of their own, before or after by the one order. A single condition with an
    /// `or` instead makes SQLite gather and sort every row after the cursor (measured:
    /// BENCHMARKS.md, "Pages and the change feed").
    package static func segments(_ keys: [SortKey], _ values: [ShardValue], inclusive: Bool) -> [Expression] {
        guard let key = keys.first, let value = values.first else { return inclusive ? [.and([])] : [] }
        let column = key.column
        let rest = after(Array(keys.dropFirst()), Array(values.dropFirst()), inclusive: inclusive)
        let equal: Expression = value.isNull ? .isNull(column: column) : .compare(.equal, column: column, value)
        let tied: Expression? = switch rest {
        case .or(let terms) where terms.isEmpty: nil
        case .and(let terms) where terms.isEmpty: equal
        default: .and([equal, rest])
        }
        if value.isNull {
            // Ascending, the nulls come first: the tied nulls, then every other row.
            // Descending, they come last: only the tied nulls are after.
            return (tied.map { [$0] } ?? []) + (key.descending ? [] : [.notNull(column: column)])
        }
        let strictly: Expression = .compare(key.descending ? .less : .greater, column: column, value)
        let ranged: Expression = tied.map { .and([.compare(key.descending ? .lessOrEqual : .greaterOrEqual, column: column, value), .or([strictly, $0])]) } ?? strictly
        // Descending, the nulls come after every value.
        return [ranged] + (key.descending ? [.isNull(column: column)] : [])
    }

    /// The rows after `values` in the order of `keys` (nulls first ascending, last
    /// descending: protocol.md 7), or at or after them when `inclusive`.
    package static func after(_ keys: [SortKey], _ values: [ShardValue], inclusive: Bool) -> Expression {
        guard let key = keys.first, let value = values.first else { return inclusive ? .and([]) : .or([]) }
        let column = key.column
        let beyond: Expression? = switch (key.descending, value.isNull) {
        case (false, true): .notNull(column: column)
        case (false, false): .compare(.greater, column: column, value)
        case (true, true): nil  // nothing sorts after null descending
        case (true, false): .or([.compare(.less, column: column, value), .isNull(column: column)])
        }
        let equal: Expression = value.isNull ? .isNull(column: column) : .compare(.equal, column: column, value)
        let rest = after(Array(keys.dropFirst()), Array(values.dropFirst()), inclusive: inclusive)
        let tied: Expression = rest == .and([]) ? equal : .and([equal, rest])
        guard let beyond else { return tied }
        return rest == .or([]) ? beyond : .or([beyond, tied])
    }
}

/// RFC 4648 base64url without padding: cursors travel in JSON and URLs unchanged.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var group = 0
            for (offset, byte) in chunk.enumerated() { group |= Int(byte) << (16 - 8 * offset) }
            for position in 0...chunk.count { out.append(alphabet[(group >> (18 - 6 * position)) & 63]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [Int] = []
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(value)
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var group = 0
            for (offset, value) in chunk.enumerated() { group |= value << (18 - 6 * offset) }
            for position in 0..<(chunk.count - 1) { out.append(UInt8((group >> (16 - 8 * position)) & 255)) }
            index += 4
        }
        return out
    }
}
