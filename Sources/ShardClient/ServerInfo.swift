/// What the daemon said to `hello` when the session connected.
public struct ServerInfo: Sendable, Hashable {
    /// The server's name (`shardd`).
    public let server: String
    /// The server's version.
    public let version: String
    /// The protocol version (1).
    public let protocolVersion: Int64
    /// This session's number, as `sessions` and `keys` show it.
    public let session: Int64
    /// The shards, in shards.conf order.
    public let shards: [String]
    /// The models, in shards.conf order.
    public let models: [String]

    init(hello: JSONObject) throws(ShardError) {
        guard let server = hello["server"]?.stringValue, let version = hello["version"]?.stringValue,
              let protocolVersion = hello["protocol"]?.intValue, let session = hello["session"]?.intValue,
              let shards = hello["shards"]?.stringsValue, let models = hello["models"]?.stringsValue
        else {
            throw ShardError.invalidResponse("to hello lacks server, version, protocol, session, shards or models")
        }
        self.server = server
        self.version = version
        self.protocolVersion = protocolVersion
        self.session = session
        self.shards = shards
        self.models = models
    }
}
