/// The answer of a query: the objects, and the shards that were asked.
public struct QueryResult<Model: ShardModel>: Sendable {
    /// The objects, in the query's order.
    public var objects: [Stored<Model>]
    /// The shards the execute chooser (or the query's `shard`) picked.
    public var shards: [String]
}
