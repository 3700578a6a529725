import ShardCore
import ShardProtocol

/// shards.conf texts for daemon tests: the weather example with small changes.
package enum TestConfig {
    /// A model with a client key and a unique column, placed only by an explicit shard.
    package static let station = """

        [models.Station]
        id = "client"
        primary_key = ["code"]
        [models.Station.columns]
        code = "text"
        name = { type = "text", unique = true }

        """

    /// The weather example with `server` lines added to `[server]` and `extra` appended.
    package static func weather(server: String = "", extra: String = "") -> String {
        DefaultConfiguration.text.replacingOccurrences(of: "[server]\n", with: "[server]\n" + server + (server.isEmpty ? "" : "\n")) + "\n" + extra
    }
}
