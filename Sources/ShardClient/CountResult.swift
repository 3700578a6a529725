/// The answer of `count`, `update_where` and `delete_where`: how many rows, where.
public struct CountResult: Sendable, Hashable {
    /// Rows counted, or changed, in all.
    public let count: Int
    /// Rows per shard (for `update_where`/`delete_where`: the shards where rows changed).
    public let perShard: [String: Int]
    /// The shards the request ran on.
    public let shards: [String]

    init(_ answer: JSONObject) throws(ShardError) {
        guard let count = answer["count"]?.intValue, let shards = answer["shards"]?.stringsValue,
              case .object(let perShard)? = answer["per_shard"]
        else {
            throw ShardError.invalidResponse("lacks count, per_shard or shards")
        }
        var counts: [String: Int] = [:]
        for member in perShard.members {
            counts[member.key] = member.value.intValue.map { Int($0) } ?? 0
        }
        self.count = Int(count)
        self.perShard = counts
        self.shards = shards
    }
}
