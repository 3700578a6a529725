import Testing
import ShardCore
import ShardProtocol

@Suite struct OrderedMergeTests {
    private func merged(_ shards: [[[ShardValue]]], _ keys: [MergeKey], offset: Int = 0, limit: Int? = nil) -> [[ShardValue]] {
        Array(OrderedMerge(shards, keys: keys, offset: offset, limit: limit))
    }

    /// The definition: the shards concatenated in order, stably sorted by the keys, sliced.
    private func reference(_ shards: [[[ShardValue]]], _ keys: [MergeKey], offset: Int, limit: Int?) -> [[ShardValue]] {
        let tagged = shards.enumerated().flatMap { shard, rows in rows.enumerated().map { (shard: shard, position: $0, row: $1) } }
        let sorted = tagged.sorted { a, b in
            switch compare(a.row, b.row, keys) {
            case .some(let before): before
            case .none: (a.shard, a.position) < (b.shard, b.position)
            }
        }
        return Array(sorted.dropFirst(offset).prefix(limit ?? .max).map(\.row))
    }

    /// True when `a` sorts before `b`, false when after, nil when the keys tie.
    private func compare(_ a: [ShardValue], _ b: [ShardValue], _ keys: [MergeKey]) -> Bool? {
        for key in keys {
            let x = a[key.column], y = b[key.column]
            if x == y { continue }
            return key.descending ? y < x : x < y
        }
        return nil
    }

    // MARK: random inputs against the reference

    private static let texts: [ShardValue] = [
        "", "a", "A", "Z", "z", "ab", "aB", "é", "e\u{301}", "ä", "日本", "日", "😀", "Zürich", "zurich", "a b", "a",
    ].map { ShardValue.text($0) }

    private func randomValue(column: Int, _ rng: inout SplitMix64) -> ShardValue {
        if rng.next() % 6 == 0 { return .null }
        switch column {
        case 0: return .int(Int64(rng.next() % 5) - 2)
        case 1: return Self.texts[Int(rng.next() % UInt64(Self.texts.count))]
        case 2: return .bool(rng.next() % 2 == 0)
        case 3: return .real([-1.5, 0, 0.25, 2, 1e300][Int(rng.next() % 5)])
        default: return .timestamp(Timestamp(microseconds: Int64(rng.next() % 4) * 1_000_000 - 1_000_000))
        }
    }

    @Test(arguments: 0..<40)
    func matchesTheReference(seedGroup: Int) {
        for round in 0..<25 {
            var rng = SplitMix64(seed: UInt64(seedGroup * 1000 + round))
            let k = 1 + Int(rng.next() % 8)
            let keyCount = Int(rng.next() % 4)
            let keys = (0..<keyCount).map { _ in MergeKey(column: Int(rng.next() % 5), descending: rng.next() % 2 == 0) }
            var shards: [[[ShardValue]]] = []
            for shard in 0..<k {
                let count = rng.next() % 4 == 0 ? 0 : Int(rng.next() % 30)
                // Column 5 names the row, so that a wrong tie order shows.
                let rows = (0..<count).map { i in (0..<5).map { randomValue(column: $0, &rng) } + [.text("\(shard)/\(i)")] }
                // Each shard returns its rows sorted by the keys, ties in its own order.
                shards.append(reference([rows], keys, offset: 0, limit: nil))
            }
            let total = shards.reduce(0) { $0 + $1.count }
            let offset = rng.next() % 3 == 0 ? 0 : Int(rng.next() % UInt64(total + 3))
            let limit: Int? = rng.next() % 3 == 0 ? nil : Int(rng.next() % UInt64(total + 3))
            let expected = reference(shards, keys, offset: offset, limit: limit)
            let actual = merged(shards, keys, offset: offset, limit: limit)
            #expect(actual == expected, "seed \(seedGroup * 1000 + round): k \(k), keys \(keys), offset \(offset), limit \(String(describing: limit))")
        }
    }

    // MARK: order and ties

    @Test func tiesKeepShardOrderThenEachShardsOrder() {
        let shards: [[[ShardValue]]] = [
            [[.int(1), .text("a0")], [.int(1), .text("a1")], [.int(2), .text("a2")]],
            [[.int(1), .text("b0")], [.int(2), .text("b1")], [.int(2), .text("b2")]],
            [[.int(0), .text("c0")], [.int(1), .text("c1")]],
        ]
        let names = merged(shards, [MergeKey(column: 0)]).map { $0[1] }
        #expect(names == [.text("c0"), .text("a0"), .text("a1"), .text("b0"), .text("c1"), .text("a2"), .text("b1"), .text("b2")])
        // Descending keeps the same tie order.
        let down = [shards[0].reversed(), shards[1].reversed(), shards[2].reversed()].map { Array($0) }
        #expect(merged(down, [MergeKey(column: 0, descending: true)]).map { $0[1] }
                == [.text("a2"), .text("b2"), .text("b1"), .text("a1"), .text("a0"), .text("b0"), .text("c1"), .text("c0")])
    }

    @Test func withoutKeysShardsFollowOneAnother() {
        let shards: [[[ShardValue]]] = [[[.int(3)], [.int(1)]], [], [[.int(2)]], [[.int(0)]]]
        #expect(merged(shards, []) == [[.int(3)], [.int(1)], [.int(2)], [.int(0)]])
        #expect(merged(shards, [], offset: 1, limit: 2) == [[.int(1)], [.int(2)]])
    }

    @Test func nullsComeFirstAscendingAndLastDescending() {
        let up = merged([[[.null], [.int(2)]], [[.null], [.int(1)]]], [MergeKey(column: 0)])
        #expect(up == [[.null], [.null], [.int(1)], [.int(2)]])
        let down = merged([[[.int(2)], [.null]], [[.int(3)], [.null]]], [MergeKey(column: 0, descending: true)])
        #expect(down == [[.int(3)], [.int(2)], [.null], [.null]])
    }

    @Test func textComparesByUTF8Bytes() {
        // "e" + combining acute (65 CC 81) sorts before precomposed é (C3 A9), though Swift's
        // String comparison calls them equal; "Z" (5A) before "a" (61); 日 (E6 97 A5) before 😀 (F0).
        let shards: [[[ShardValue]]] = [[[.text("é")], [.text("😀")]], [[.text("Z")], [.text("a")], [.text("e\u{301}")], [.text("日")]]]
        #expect(merged(shards, [MergeKey(column: 0)]) == [[.text("Z")], [.text("a")], [.text("e\u{301}")], [.text("é")], [.text("日")], [.text("😀")]])
    }

    @Test func severalKeysMixedDirections() {
        // order_by ["continent", "-temperature"]
        let shards: [[[ShardValue]]] = [
            [[.text("Asia"), .real(30)], [.text("Asia"), .real(20)], [.text("Europe"), .real(15)]],
            [[.text("Asia"), .real(25)], [.text("Europe"), .real(15)], [.text("Europe"), .null]],
        ]
        let keys = [MergeKey(column: 0), MergeKey(column: 1, descending: true)]
        #expect(merged(shards, keys) == [
            [.text("Asia"), .real(30)], [.text("Asia"), .real(25)], [.text("Asia"), .real(20)], [.text("Europe"), .real(15)], [.text("Europe"), .real(15)], [.text("Europe"), .null],
        ])
    }

    @Test func offsetAndLimitApplyOnceToTheMergedRows() {
        let shards: [[[ShardValue]]] = [[[.int(1)], [.int(4)], [.int(7)]], [[.int(2)], [.int(5)]], [[.int(3)], [.int(6)]]]
        let keys = [MergeKey(column: 0)]
        #expect(merged(shards, keys, offset: 2, limit: 3) == [[.int(3)], [.int(4)], [.int(5)]])
        #expect(merged(shards, keys, offset: 6) == [[.int(7)]])
        #expect(merged(shards, keys, offset: 7) == [])
        #expect(merged(shards, keys, offset: 100, limit: 1) == [])
        #expect(merged(shards, keys, limit: 0) == [])
        #expect(merged(shards, keys, limit: 100).count == 7)
        #expect(merged([], keys) == [])
        #expect(merged([[], []], keys, limit: 1) == [])
    }

    // MARK: streaming

    /// A stream that counts the rows taken from it.
    final class Counter {
        var pulls = 0
    }

    struct CountingStream: IteratorProtocol {
        var rows: IndexingIterator<[[ShardValue]]>
        let counter: Counter

        mutating func next() -> [ShardValue]? {
            guard let row = rows.next() else { return nil }
            counter.pulls += 1
            return row
        }
    }

    private func streams(_ k: Int, rows: Int, _ counter: Counter) -> [CountingStream] {
        (0..<k).map { shard in
            CountingStream(rows: (0..<rows).map { [ShardValue.int(Int64($0 * k + shard))] }.makeIterator(), counter: counter)
        }
    }

    @Test func streamsArePulledOnlyAsFarAsNeeded() {
        let counter = Counter()
        var merge = OrderedMerge(streams(4, rows: 1000, counter), keys: [MergeKey(column: 0)], offset: 3, limit: 5)
        #expect(counter.pulls == 0)
        var rows: [[ShardValue]] = []
        while let row = merge.next() { rows.append(row) }
        #expect(rows == (3..<8).map { [.int(Int64($0))] })
        // One head per stream, then one refill for each row taken but the last.
        #expect(counter.pulls == 4 + 8 - 1)
        #expect(merge.next() == nil)
        #expect(counter.pulls == 11)
    }

    @Test func aZeroLimitPullsNothing() {
        let counter = Counter()
        var merge = OrderedMerge(streams(3, rows: 10, counter), keys: [MergeKey(column: 0)], offset: 2, limit: 0)
        #expect(merge.next() == nil)
        #expect(counter.pulls == 0)
    }

    @Test func aLongMergeIsInOrder() {
        let counter = Counter()
        let merge = OrderedMerge(streams(8, rows: 5000, counter), keys: [MergeKey(column: 0)])
        var expected: Int64 = 0
        for row in merge {
            #expect(row == [.int(expected)])
            if row != [.int(expected)] { break }
            expected += 1
        }
        #expect(expected == 40_000)
    }
}

