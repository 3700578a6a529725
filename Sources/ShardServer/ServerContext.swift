import Logging
import ShardCore
import ShardStore
import Synchronization

/// What every session shares: the configuration, the shards, and the session counter.
package final class ServerContext: Sendable {
    package let configuration: Configuration
    package let shards: ShardSet
    package let logger: Logger
    private let nextSession = Mutex(1)

    /// The server's name and version, reported by `hello`.
    package static let serverName = "shardd"
    package static let version = "0.1.0"

    package init(configuration: Configuration, shards: ShardSet, logger: Logger) {
        self.configuration = configuration
        self.shards = shards
        self.logger = logger
    }

    func newSessionID() -> Int {
        nextSession.withLock { id in
            defer { id += 1 }
            return id
        }
    }
}
