import ShardProtocol

/// One sort key of a merge: a column position in the rows, ascending or descending.
package struct MergeKey: Sendable, Equatable {
    /// The position of the column in every row.
    package var column: Int
    package var descending: Bool

    package init(column: Int, descending: Bool = false) {
        self.column = column
        self.descending = descending
    }
}

/// The k-way merge of a fan-out read (protocol.md 7 and 8): rows that each shard returned
/// already sorted by `keys`, merged into one stream in that order, with `offset` and
/// `limit` applied once to the merged stream.
///
/// The order is protocol.md's one order: `ShardValue`'s `<` per key (null first ascending, last
/// descending; text by UTF-8 bytes), then the earlier stream (shards.conf order), then each
/// stream's own order. So the result equals a stable sort of the streams concatenated in
/// order, sliced by `offset` and `limit`, provided each stream is sorted by `keys`.
///
/// A binary heap holds one head row per stream: O(log k) comparisons per row for k streams.
/// Streams are pulled lazily, one row at a time and only when that row could be next: no
/// stream is read before the first `next()`, and none after the last row `limit` allows,
/// so a streaming reader behind a stream fetches no more than the merge needs. Rows are
/// passed through, not copied (arrays share their storage).
package struct OrderedMerge<Stream: IteratorProtocol<[ShardValue]>>: IteratorProtocol, Sequence {
    private var streams: [Stream]
    private let keys: [MergeKey]
    /// Rows still to drop before the first one returned.
    private var toSkip: Int
    /// Rows still to return; nil for no limit.
    private var remaining: Int?
    /// Min-heap of stream heads, ordered by `precedes`.
    private var heap: [Head] = []
    private var started = false
    /// The stream whose head was taken last; it is pulled again only on the next `next()`.
    private var toRefill: Int?

    private struct Head {
        var row: [ShardValue]
        var stream: Int
    }

    /// - Parameters:
    ///   - streams: one per shard, in shards.conf order, each sorted by `keys`.
    ///   - keys: the sort keys, most significant first; every row has each key's column.
    ///   - offset: rows of the merged order to skip (at least 0).
    ///   - limit: rows to return at most after the offset (at least 0); nil for all.
    package init(_ streams: [Stream], keys: [MergeKey], offset: Int = 0, limit: Int? = nil) {
        precondition(offset >= 0, "offset must not be negative")
        precondition((limit ?? 0) >= 0, "limit must not be negative")
        self.streams = streams
        self.keys = keys
        self.toSkip = offset
        self.remaining = limit
        heap.reserveCapacity(streams.count)
    }

    /// The next merged row, or nil when the merge (or its limit) is done.
    package mutating func next() -> [ShardValue]? {
        while true {
            if remaining == 0 { return nil }
            if !started {
                started = true
                for i in streams.indices { pull(i) }
            } else if let i = toRefill {
                toRefill = nil
                pull(i)
            }
            guard let head = popFirst() else { return nil }
            toRefill = head.stream
            if toSkip > 0 {
                toSkip -= 1
                continue
            }
            if let r = remaining { remaining = r - 1 }
            return head.row
        }
    }

    // MARK: order

    /// Whether row `a` of stream `i` comes before row `b` of stream `j`.
    private func precedes(_ a: Head, _ b: Head) -> Bool {
        for key in keys {
            let x = a.row[key.column], y = b.row[key.column]
            if x < y { return !key.descending }
            if y < x { return key.descending }
        }
        return a.stream < b.stream
    }

    // MARK: heap

    private mutating func pull(_ stream: Int) {
        guard let row = streams[stream].next() else { return }
        heap.append(Head(row: row, stream: stream))
        siftUp(heap.count - 1)
    }

    private mutating func popFirst() -> Head? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
        return first
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            let right = left + 1
            let child = right < heap.count && precedes(heap[right], heap[left]) ? right : left
            guard precedes(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            parent = child
        }
    }
}

extension OrderedMerge where Stream == IndexingIterator<[[ShardValue]]> {
    /// A merge of rows already in memory: one array per shard, in shards.conf order, each
    /// sorted by `keys`; `Array(OrderedMerge(rows, keys: ...))` is the merged result.
    package init(_ shards: [[[ShardValue]]], keys: [MergeKey], offset: Int = 0, limit: Int? = nil) {
        self.init(shards.map { $0.makeIterator() }, keys: keys, offset: offset, limit: limit)
    }
}
