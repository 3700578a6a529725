import ShardProtocol

/// The identity chooser of protocol.md 5.2: the shards a `get` by primary key asks (after
/// the session's identity map, which the caller consults first).
///
/// The request's `shard` when given, else every shard in file order (queried concurrently).
/// A primary key says nothing about placement, even when it is the shard key column: a row
/// may have been added to an explicit shard against the rule.
package struct IdentityChooser: Sendable {
    /// All shards, in file order.
    package var shards: ShardOrder

    package init(shards: ShardOrder) {
        self.shards = shards
    }

    package init(configuration: Configuration) {
        self.init(shards: ShardOrder(configuration))
    }

    /// The shards to ask, in file order.
    /// - Throws: `unknown_shard` when `explicitShard` is not a shard.
    package func shards(explicitShard: String?) throws(ShardError) -> [String] {
        if let explicitShard { return [try shards.checked(explicitShard)] }
        return shards.names
    }
}
