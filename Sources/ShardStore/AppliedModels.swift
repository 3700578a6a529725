import Foundation
import ShardCore

/// The models as they were last applied to every shard (`state_dir/models.json`): what a
/// shard's catalog cannot say (a model's `table` and `id`, whether an INTEGER column was an
/// int, a bool or a timestamp), so that a change to them is refused rather than taken for a
/// new table (config.md "Changing the schema").
package struct AppliedModels: Sendable, Equatable, Codable {
    package struct AppliedModel: Sendable, Equatable, Codable {
        package var name: String
        package var table: String
        package var id: String
        package var primaryKey: [String]
        package var columns: [AppliedColumn]

        enum CodingKeys: String, CodingKey {
            case name, table, id, columns
            case primaryKey = "primary_key"
        }
    }

    package struct AppliedColumn: Sendable, Equatable, Codable {
        package var name: String
        package var type: String
        package var nullable: Bool
        /// As shards.conf spells it (`ColumnDefault.description`); nil: none.
        package var serverDefault: String?

        enum CodingKeys: String, CodingKey {
            case name, type, nullable
            case serverDefault = "server_default"
        }
    }

    package var version = 1
    package var models: [AppliedModel]

    package init(_ models: [Model]) {
        self.models = models.map { model in
            AppliedModel(name: model.name, table: model.table, id: model.id.rawValue, primaryKey: model.primaryKey,
                         columns: model.columns.map { column in
                             AppliedColumn(name: column.name, type: column.type.rawValue, nullable: column.nullable,
                                           serverDefault: column.serverDefault?.description)
                         })
        }
    }

    package func model(named name: String) -> AppliedModel? {
        models.first { $0.name == name }
    }

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
