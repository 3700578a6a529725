import ShardCore
import ShardStore

/// The configuration routed by the placement (`PlacementMap.routing`) and the choosers made
/// from it: one immutable snapshot, replaced whole when a move's switch changes the
/// placement or a reload the configuration. A request takes one snapshot when it starts and
/// routes by it to the end.
package final class RoutedConfiguration: Sendable {
    package let configuration: Configuration
    package let placement: PlacementMap
    /// shards.conf as loaded, before routing (what `placement`'s `differs` compares with).
    package let configured: Configuration
    /// The configuration's number (protocol.md 9 `reload`): 1 at start, +1 per reload that
    /// changed something.
    package let version: Int
    let shardChooser: ShardChooser
    let executeChooser: ExecuteChooser
    /// The shards in file order (ties, "all shards").
    let shardOrder: ShardOrder
    /// Each model's placement group (15.1): its head's name; a model without `shard_by` is
    /// its own (its rows move one by one).
    let groups: [String: String]
    /// Some shard batches its reads (`SQLDialect.batchesReads`): the gets queued behind a get
    /// are read ahead (`Session.readAhead`), which still asks each shard.
    let batchesReads: Bool

    /// - Parameter configuration: already routed by `placement`.
    init(configuration: Configuration, placement: PlacementMap, configured: Configuration, version: Int) {
        self.configuration = configuration
        self.placement = placement
        self.configured = configured
        self.version = version
        shardChooser = ShardChooser(configuration: configuration)
        executeChooser = ExecuteChooser(configuration: configuration)
        shardOrder = ShardOrder(configuration)
        batchesReads = configuration.shards.contains { SQLDialect(for: $0.location).batchesReads }
        groups = Dictionary(uniqueKeysWithValues: configuration.models.map { model in
            (model.name, configuration.placementChain(of: model.name)?.last?.model.name ?? model.name)
        })
    }

    /// The groups of `models`, without repeats.
    func groups(of models: [String]) -> [String] {
        var out: [String] = []
        for model in models { if let group = groups[model], !out.contains(group) { out.append(group) } }
        return out
    }
}
