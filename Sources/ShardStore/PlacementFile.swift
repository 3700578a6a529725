import Foundation
import ShardCore
import ShardProtocol

/// Where the durable placement lives: one small interface beside `CommitStore`, so that a
/// catalog shard can hold it for several daemons later without a rewrite.
package protocol PlacementStore: Sendable {
    /// The stored placement; nil before the first start.
    func load() throws -> PlacementMap?
    /// Replaces it, durably.
    func save(_ placement: PlacementMap, types: [String: ColumnType]) throws
}

/// `state_dir/placement.json` (`PlacementMap+JSON`), replaced atomically.
package struct PlacementFile: PlacementStore {
    package let stateDir: String
    package var path: String { stateDir + "/placement.json" }

    package init(stateDir: String) {
        self.stateDir = stateDir
    }

    package func load() throws -> PlacementMap? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try PlacementMap(json: try JSONValue.parse(Array(data)))
        } catch {
            throw CommitLog.Failure(description: "\(path) cannot be read (\(error)): it says which shard holds which rows, so shardd will not start without it; restore it from a backup")
        }
    }

    package func save(_ placement: PlacementMap, types: [String: ColumnType]) throws {
        try StateDirectory.replace(path, with: Array((placement.json(types: types).serialized + "\n").utf8), in: stateDir)
    }
}

extension PlacementMap {
    /// The placement a daemon starts with (`reconcile`), saved when it changed (unless
    /// `save` is false, as for `--check`), and the configuration routed by it.
    /// - Throws: `Failure` listing the problems that keep the daemon from starting.
    package static func open(_ store: PlacementStore, configuration: Configuration,
                             save: Bool = true) throws -> (placement: PlacementMap, routing: Configuration) {
        let reconciled = reconcile(stored: try store.load(), with: configuration)
        guard reconciled.problems.isEmpty else {
            throw CommitLog.Failure(description: "the placement of rows (state_dir/placement.json) and shards.conf disagree:\n"
                + reconciled.problems.map { "  \($0)" }.joined(separator: "\n"))
        }
        if reconciled.changed && save {
            try store.save(reconciled.placement, types: keyTypes(configuration))
        }
        return (reconciled.placement, reconciled.placement.routing(configuration))
    }
}
