/// Which row an object is, across shards (protocol.md 3): model, primary key, and the token
/// (the name of the shard the row lives on), written `["Report",[1],"asia"]`.
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

    /// Equal when model, primary key and token are. Inlinable, with `hash(into:)`, because
    /// the daemon's identity maps (another module) compare and hash keys on every request.
    @inlinable
    public static func == (lhs: IdentityKey, rhs: IdentityKey) -> Bool {
        lhs.primaryKey == rhs.primaryKey && lhs.token == rhs.token && lhs.model == rhs.model
    }

    /// Hashes model, primary key and token.
    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(model)
        hasher.combine(primaryKey)
        hasher.combine(token)
    }

    /// The key as a request sends it: `["Report",[1],"asia"]` (`null` when a value cannot be sent).
    public var json: JSONValue { (try? requestJSON()) ?? .null }

    /// `["Report",[1],"asia"]`.
    public var description: String { json.description }

    /// Reads a key from its JSON form `[model, [pk...], token]`, the values as they are written.
    /// - Throws: `ShardError` `bad_request` when `json` has another shape.
    public init(json: JSONValue) throws(ShardError) {
        guard let parts = IdentityKey.parts(of: json) else {
            throw ShardError(.badRequest, "\(json.serialized) is not an identity key; expected [model, [primary key values], shard], e.g. [\"Report\",[1],\"asia\"]")
        }
        self.init(model: parts.model, primaryKey: parts.primaryKey.map(ShardValue.init(untyped:)), token: parts.token)
    }

    /// The three parts of the wire form, or nil for another shape.
    package static func parts(of json: JSONValue) -> (model: String, primaryKey: [JSONValue], token: String)? {
        guard case .array(let parts) = json, parts.count == 3,
              case .string(let model) = parts[0], case .array(let primaryKey) = parts[1],
              case .string(let token) = parts[2]
        else { return nil }
        return (model, primaryKey, token)
    }

    /// The key as a request sends it.
    /// - Throws: `invalid_value` for a key value that cannot be sent.
    package func requestJSON() throws(ShardError) -> JSONValue {
        var values: [JSONValue] = []
        values.reserveCapacity(primaryKey.count)
        for value in primaryKey { values.append(try value.requestJSON()) }
        return .array([.string(model), .array(values), .string(token)])
    }

    /// The key as the daemon answers with it.
    package var responseJSON: JSONValue {
        .array([.string(model), .array(primaryKey.map(\.responseJSON)), .string(token)])
    }

    /// `["Report", [1], "asia"]`, as the daemon's messages show a key.
    package var messageText: String {
        "[\"\(model)\", [\(primaryKey.map(\.messageText).joined(separator: ", "))], \"\(token)\"]"
    }
}
