import Foundation
import ShardCore
import ShardProtocol

/// Where the running configuration was read from, so that `reload` reads the same again.
package enum ConfigSource: Sendable, Equatable {
    /// A shards.conf file (`--config`, or `./shards.conf`).
    case file(String)
    /// The built-in default, resolved against a directory (no ./shards.conf at start).
    case builtIn(baseDirectory: String)
    /// Nothing to read again (a daemon made in a test).
    case none

    /// The configuration as the source says now.
    /// - Throws: `ConfigError` for a broken file, as at start.
    package func load() throws -> Configuration {
        switch self {
        case .file(let path):
            return try ConfigLoader.load(path: path)
        case .builtIn(let directory):
            return try ConfigLoader.parse(DefaultConfiguration.text, file: "(built-in shards.conf)", baseDirectory: directory,
                                          environment: ProcessInfo.processInfo.environment)
        case .none:
            throw ShardError(.badConfig, "this daemon was not started from a file, so there is nothing to reload")
        }
    }

    /// How messages name it.
    package var description: String {
        switch self {
        case .file(let path): path
        case .builtIn: "the built-in shards.conf"
        case .none: "no file"
        }
    }
}
