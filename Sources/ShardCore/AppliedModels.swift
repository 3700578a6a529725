
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
}
