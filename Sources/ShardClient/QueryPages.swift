/// One page of a query (protocol.md 8.1): its objects, and the cursor of the next page.
public struct QueryPage<Model: ShardModel>: Sendable {
    /// At most the page size of objects, in the query's order.
    public var objects: [Stored<Model>]
    /// The shards that were asked.
    public var shards: [String]
    /// The cursor for `Query.page(size:after:)` of the following page; nil after the last page.
    public var next: String?
}

/// The pages of a query, one request each, following the daemon's cursors: an
/// `AsyncSequence` of `[Stored<Model>]` that ends after the last page (an empty result has
/// no page).
public struct QueryPages<Model: ShardModel>: AsyncSequence, Sendable {
    public typealias Element = [Stored<Model>]

    let query: Query<Model>
    let size: Int

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(query: query, size: size)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let query: Query<Model>
        let size: Int
        var cursor: String?
        var finished = false

        init(query: Query<Model>, size: Int) {
            self.query = query
            self.size = size
        }

        public mutating func next() async throws -> [Stored<Model>]? {
            guard !finished else { return nil }
            let page = try await query.page(size: size, after: cursor)
            cursor = page.next
            finished = page.next == nil
            return page.objects.isEmpty ? nil : page.objects
        }
    }
}
