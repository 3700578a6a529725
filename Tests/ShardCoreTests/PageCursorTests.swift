import ShardCore
import ShardProtocol
import Testing

/// Page cursors (protocol.md 8.1) without I/O: the condition "after this position" selects
/// exactly the rows the one order puts after it, and cursors survive their round trip.
@Suite struct PageCursorTests {
    static let texts: [ShardValue] = [.null, .text(""), .text("a"), .text("B"), .text("é"), .text("e\u{301}"), .text("日本"), .text("😀")]

    /// `lhs` before `rhs` in the one order over `keys` (null first ascending, last descending).
    static func precedes(_ lhs: [String: ShardValue], _ rhs: [String: ShardValue], _ keys: [SortKey]) -> Int {
        for key in keys {
            let (a, b) = (lhs[key.column]!, rhs[key.column]!)
            if a == b { continue }
            let less = a < b
            return (less != key.descending) ? -1 : 1
        }
        return 0
    }

    @Test func afterSelectsExactlyTheRowsThatSortAfter() {
        var random = SplitMix64(seed: 81)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        var rows: [[String: ShardValue]] = []
        for id in 0..<120 {
            rows.append(["id": .int(Int64(id)), "a": random.next() % 5 == 0 ? .null : .int(Int64(random.next() % 6) - 3),
                         "t": pick(Self.texts), "r": random.next() % 4 == 0 ? .null : .real(Double(random.next() % 5) / 2)])
        }
        for round in 0..<200 {
            let columns = ["a", "t", "r"].filter { _ in random.next() % 2 == 0 }
            var keys = columns.map { SortKey(column: $0, descending: random.next() % 2 == 0) }
            if round % 2 == 0 { keys.append(SortKey(column: "id", descending: random.next() % 2 == 0)) }
            let inclusive = random.next() % 2 == 0
            let position = pick(rows)
            let values = keys.map { position[$0.column]! }
            let expression = PageCursor.after(keys, values, inclusive: inclusive)
            let segments = PageCursor.segments(keys, values, inclusive: inclusive)
            for row in rows {
                let order = Self.precedes(row, position, keys)
                let expected = order > 0 || (inclusive && order == 0)
                #expect((expression.evaluate(row) == true) == expected, "\(keys) \(position) \(row) inclusive: \(inclusive)")
                // The segments hold the same rows, each row in one segment only.
                let holding = segments.indices.filter { segments[$0].evaluate(row) == true }
                #expect(holding.count == (expected ? 1 : 0), "\(keys) \(position) \(row): in segments \(holding) of \(segments)")
            }
            // A segment's rows all sort before the next segment's.
            for (earlier, later) in zip(segments, segments.dropFirst()) {
                for a in rows where earlier.evaluate(a) == true {
                    for b in rows where later.evaluate(b) == true {
                        #expect(Self.precedes(a, b, keys) < 0, "\(keys): \(a) of \(earlier) does not sort before \(b) of \(later)")
                    }
                }
            }
        }
    }

    @Test func theSegmentsDependOnTheShardsPlace() {
        let order = [SortKey(column: "t")], tiebreak = [SortKey(column: "id")]
        let cursor = PageCursor(fingerprint: 1, shard: "two", values: [.text("m"), .int(5)])
        let m = ShardValue.text("m")
        #expect(cursor.segments(shardIndex: 0, cursorIndex: 1, order: order, tiebreak: tiebreak) == [.compare(.greater, column: "t", m)])
        #expect(cursor.segments(shardIndex: 2, cursorIndex: 1, order: order, tiebreak: tiebreak)
                == [.and([.compare(.greaterOrEqual, column: "t", m), .or([.compare(.greater, column: "t", m), .compare(.equal, column: "t", m)])])])
        // The range on the first key beside the exact condition, for the index.
        #expect(cursor.segments(shardIndex: 1, cursorIndex: 1, order: order, tiebreak: tiebreak)
                == [.and([.compare(.greaterOrEqual, column: "t", m),
                          .or([.compare(.greater, column: "t", m), .and([.compare(.equal, column: "t", m), .compare(.greater, column: "id", .int(5))])])])])
        // Descending, the nulls follow in a segment of their own.
        let down = [SortKey(column: "t", descending: true)]
        #expect(cursor.segments(shardIndex: 0, cursorIndex: 1, order: down, tiebreak: tiebreak) == [.compare(.less, column: "t", m), .isNull(column: "t")])
        // At a null: ascending, the tied nulls, then every value; descending, the tied nulls only.
        let atNull = PageCursor(fingerprint: 1, shard: "two", values: [.null, .int(5)])
        let tiedNulls: Expression = .and([.isNull(column: "t"), .compare(.greater, column: "id", .int(5))])
        #expect(atNull.segments(shardIndex: 1, cursorIndex: 1, order: order, tiebreak: tiebreak) == [tiedNulls, .notNull(column: "t")])
        #expect(atNull.segments(shardIndex: 1, cursorIndex: 1, order: down, tiebreak: tiebreak) == [tiedNulls])
        // Without order_by: whole shards before, all of those after, by key on its own.
        let bare = PageCursor(fingerprint: 1, shard: "two", values: [.int(5)])
        #expect(bare.segments(shardIndex: 0, cursorIndex: 1, order: [], tiebreak: tiebreak) == [])
        #expect(bare.segments(shardIndex: 2, cursorIndex: 1, order: [], tiebreak: tiebreak) == [.and([])])
    }

    @Test func cursorsRoundTripAndForeignOnesAreRefused() throws {
        let columns = [Column(name: "t", type: .text), Column(name: "at", type: .timestamp), Column(name: "id", type: .int, nullable: false)]
        let cursor = PageCursor(fingerprint: 0xdead_beef_0042, shard: "north_america",
                                values: [.text("日本\"x"), .timestamp(Timestamp(microseconds: -5)), .int(Int64.min)])
        let text = cursor.encoded
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(try PageCursor(decoding: text, fingerprint: 0xdead_beef_0042, columns: columns) == cursor)
        #expect(throws: ShardError.self) { try PageCursor(decoding: text, fingerprint: 7, columns: columns) }
        for bad in ["", "x", "not a cursor!", String(text.dropLast(3)), text + "A"] {
            #expect(throws: ShardError.self) { try PageCursor(decoding: bad, fingerprint: 0xdead_beef_0042, columns: columns) }
        }
        #expect(PageCursor.fingerprint(model: "R", [.string("a"), nil]) != PageCursor.fingerprint(model: "R", [.string("b"), nil]))
    }
}
