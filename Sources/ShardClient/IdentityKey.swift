/// Which row an object is, across shards: model, primary key, and the token (the shard the row
/// lives on), written `["Report",[1],"asia"]` (protocol.md 3).
///
/// Two rows with the same primary key on different shards have different identity keys.
public struct IdentityKey: Sendable, Hashable, CustomStringConvertible {
    /// The model's name in shards.conf.
    public var model: String
    /// The primary-key values, in the model's primary-key order.
    public var primaryKey: [ShardValue]
    /// The name of the shard the row lives on.
    public var token: String

    /// A key from its parts.
    public init(model: String, primaryKey: [ShardValue], token: String) {
        self.model = model
        self.primaryKey = primaryKey
        self.token = token
    }

    /// The shard the row lives on (the token).
    public var shard: String { token }

    /// The key as JSON: `["Report",[1],"asia"]`.
    public var json: JSONValue { JSONValue(core: (try? coreValue()) ?? .null) }

    /// `["Report",[1],"asia"]`.
    public var description: String { json.description }

    /// Reads a key from its JSON form `[model, [pk...], token]`.
    /// - Throws: `ShardError` `bad_request` when `json` has another shape.
    public init(json: JSONValue) throws(ShardError) {
        try self.init(core: json.coreValue)
    }

    init(core: CoreJSON) throws(ShardError) {
        guard case .array(let parts) = core, parts.count == 3,
              case .string(let model) = parts[0], case .array(let primaryKey) = parts[1],
              case .string(let token) = parts[2]
        else {
            throw ShardError(.badRequest, "\(core.serialized) is not an identity key; expected [model, [primary key values], shard], e.g. [\"Report\",[1],\"asia\"]")
        }
        self.init(model: model, primaryKey: primaryKey.map(ShardValue.init(core:)), token: token)
    }

    func coreValue() throws(ShardError) -> CoreJSON {
        var values: [CoreJSON] = []
        values.reserveCapacity(primaryKey.count)
        for value in primaryKey { values.append(try value.coreValue()) }
        return .array([.string(model), .array(values), .string(token)])
    }
}
