import Logging
import ShardCore
import ShardStore
import Synchronization

/// What every session shares: the configuration, the shards, and the session counter.
package final class ServerContext: Sendable {
    package let configuration: Configuration
    package let shards: ShardSet
    package let logger: Logger
    let shardChooser: ShardChooser
    let identityChooser: IdentityChooser
    let executeChooser: ExecuteChooser
    let shardOrder: ShardOrder
    private let nextSession = Mutex(1)

    /// The server's name and version, reported by `hello`.
    package static let serverName = "shardd"
    package static let version = "0.1.0"

    package init(configuration: Configuration, shards: ShardSet, logger: Logger) {
        self.configuration = configuration
        self.shards = shards
        self.logger = logger
        shardChooser = ShardChooser(configuration: configuration)
        identityChooser = IdentityChooser(configuration: configuration)
        executeChooser = ExecuteChooser(configuration: configuration)
        shardOrder = ShardOrder(configuration)
    }

    func newSessionID() -> Int {
        nextSession.withLock { id in
            defer { id += 1 }
            return id
        }
    }
}
