/// `[model, [pk values...], token]` (protocol.md 3): the token is the name of the shard the
/// row lives on, so equal primary keys on two shards are two identities.
package struct IdentityKey: Sendable, Hashable, CustomStringConvertible {
    package var model: String
    package var primaryKey: [Value]
    package var token: String

    package init(model: String, primaryKey: [Value], token: String) {
        self.model = model
        self.primaryKey = primaryKey
        self.token = token
    }

    package var json: JSONValue {
        .array([.string(model), .array(primaryKey.map(\.json)), .string(token)])
    }

    package var description: String {
        "[\"\(model)\", [\(primaryKey.map(\.description).joined(separator: ", "))], \"\(token)\"]"
    }

    /// Reads a key sent by a client, checking the model, the key's columns and the shard.
    /// - Throws: `bad_request` for the wrong shape, `unknown_model`, `unknown_shard`,
    ///   `invalid_value` for a primary-key value of the wrong type.
    package init(json: JSONValue, configuration: Configuration) throws(RequestError) {
        guard case .array(let parts) = json, parts.count == 3,
              case .string(let modelName) = parts[0], case .array(let keyValues) = parts[1],
              case .string(let token) = parts[2]
        else {
            throw RequestError(.badRequest, "an identity key is [model, [primary key values...], shard], e.g. [\"Report\", [1], \"asia\"]")
        }
        guard let model = configuration.model(named: modelName) else {
            throw RequestError(.unknownModel, "\"\(modelName)\" is not a model (models: \(configuration.models.map(\.name).joined(separator: ", ")))")
        }
        guard configuration.shard(named: token) != nil else {
            throw RequestError(.unknownShard, "\"\(token)\" is not a shard (shards: \(configuration.shards.map(\.name).joined(separator: ", ")))",
                               details: [("shard", .string(token))])
        }
        let columns = model.primaryKeyColumns
        guard keyValues.count == columns.count else {
            throw RequestError(.badRequest, "\(model.name)'s primary key has \(columns.count) column(s) (\(model.primaryKey.joined(separator: ", "))), the key gives \(keyValues.count) value(s)")
        }
        var values: [Value] = []
        for (json, column) in zip(keyValues, columns) {
            let value = try Value(json: json, for: column, nullable: false)
            values.append(value)
        }
        self.init(model: model.name, primaryKey: values, token: token)
    }
}
