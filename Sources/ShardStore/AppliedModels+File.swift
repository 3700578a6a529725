import Foundation
import ShardCore

/// `state_dir/models.json`: the models last applied, read and replaced atomically.
extension AppliedModels {
    /// The file's path under `stateDir`.
    package static func path(stateDir: String) -> String {
        stateDir + "/models.json"
    }

    /// The models last applied; nil when none were recorded (a first start, or a daemon
    /// older than the file).
    package static func load(stateDir: String) throws -> AppliedModels? {
        let path = path(stateDir: stateDir)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(AppliedModels.self, from: data)
        } catch {
            throw BackendError(.refused, shard: "state", "\(path) cannot be read (\(error)); move it away to compare the models with the shards' catalogs alone")
        }
    }

    /// Writes the file atomically (`StateDirectory.replace`).
    package func save(stateDir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self) + Data("\n".utf8)
        try StateDirectory.replace(Self.path(stateDir: stateDir), with: Array(data), in: stateDir)
    }
}
