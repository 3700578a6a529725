import ShardProtocol

extension IdentityKey {
    /// Reads a key sent by a client, checking the model, the key's columns and the shard.
    /// - Throws: `bad_request` for the wrong shape, `unknown_model`, `unknown_shard`,
    ///   `invalid_value` for a primary-key value of the wrong type.
    package init(json: JSONValue, configuration: Configuration) throws(ShardError) {
        guard let (modelName, keyValues, token) = IdentityKey.parts(of: json) else {
            throw ShardError(.badRequest, "an identity key is [model, [primary key values...], shard], e.g. [\"Report\", [1], \"asia\"]")
        }
        guard let model = configuration.model(named: modelName) else {
            throw ShardError(.unknownModel, "\"\(modelName)\" is not a model (models: \(configuration.models.map(\.name).joined(separator: ", ")))")
        }
        guard configuration.shard(named: token) != nil else {
            throw ShardError(.unknownShard, "\"\(token)\" is not a shard (shards: \(configuration.shards.map(\.name).joined(separator: ", ")))",
                             details: [("shard", .string(token))])
        }
        let columns = model.primaryKeyColumns
        guard keyValues.count == columns.count else {
            throw ShardError(.badRequest, "\(model.name)'s primary key has \(columns.count) column(s) (\(model.primaryKey.joined(separator: ", "))), the key gives \(keyValues.count) value(s)")
        }
        var values: [ShardValue] = []
        for (json, column) in zip(keyValues, columns) {
            values.append(try ShardValue(json: json, for: column, nullable: false))
        }
        self.init(model: model.name, primaryKey: values, token: token)
    }
}
