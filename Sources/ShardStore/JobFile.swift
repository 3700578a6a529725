import Foundation
import ShardCore
import ShardProtocol

/// Where move jobs live: one small interface beside `CommitStore` and `PlacementStore`, so
/// that a catalog shard can hold them for several daemons later without a rewrite.
package protocol JobStore: Sendable {
    /// Every job, oldest first; none before the first.
    func load() throws -> [MoveJob]
    /// Replaces them, durably.
    func save(_ jobs: [MoveJob]) throws
}

/// `state_dir/jobs.json`: `{"jobs": [...]}` (`MoveJob+JSON`), replaced atomically.
package struct JobFile: JobStore {
    package let stateDir: String
    package var path: String { stateDir + "/jobs.json" }

    package init(stateDir: String) {
        self.stateDir = stateDir
    }

    package func load() throws -> [MoveJob] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do {
            guard case .array(let items)? = try JSONValue.parse(Array(data))["jobs"] else {
                throw MoveJob.FormatError(description: "expected {\"jobs\": [...]}")
            }
            return try items.map { item throws(MoveJob.FormatError) in try MoveJob(fileJSON: item) }
        } catch {
            throw CommitLog.Failure(description: "\(path) cannot be read (\(error)): it says which moves may be half done, so shardd will not start without it; restore it from a backup")
        }
    }

    package func save(_ jobs: [MoveJob]) throws {
        let json = JSONValue.object(JSONObject([("jobs", .array(jobs.map(\.fileJSON)))]))
        try StateDirectory.replace(path, with: Array((json.serialized + "\n").utf8), in: stateDir)
    }
}
