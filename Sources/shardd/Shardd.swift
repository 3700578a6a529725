import ArgumentParser
import Foundation
import Logging
import ShardCore
import ShardProtocol
import ServiceLifecycle
import ShardServer
import ShardStore

/// The shardd daemon's command line.
@main
struct Shardd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardd",
        abstract: "A horizontal sharding daemon: SQLite and PostgreSQL shards behind one Unix socket.",
        discussion: """
            Reads shards.conf (see docs/config.md). Without --config it reads ./shards.conf, and when \
            that file does not exist, the built-in default (the weather example: four SQLite shards \
            under ./data).
            """
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Load the configuration, connect to every shard, create missing tables, print one line per shard, and exit: 0 if every shard is usable, 1 otherwise.")
    var check = false

    @Option(name: .long, help: ArgumentHelp("How much to log on standard error.", valueName: "level"))
    var logLevel: Logger.Level = .info

    mutating func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "shardd")

        let configuration: Configuration
        do {
            configuration = try loadConfiguration(logger: logger)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }

        if !check {
            do {
                try Server.claimSocket(configuration.server.socket)
            } catch {
                logger.error("\(error)")
                throw ExitCode(1)
            }
        }
        let shards = ShardSet(configuration: configuration)
        defer { shards.close() }
        // The daemon recovers its commits before it serves (and before the DDL of start-up,
        // which would wait for prepared transactions' locks); --check never does: a running
        // daemon's transactions are not its to finish.
        var commits: CommitCoordinator?
        if !check {
            do {
                commits = try CommitCoordinator.open(stateDir: configuration.server.stateDir, shards: shards, logger: logger)
            } catch {
                logger.error("\(error)")
                throw ExitCode(1)
            }
        }
        var beforeTables: (@Sendable () async -> Void)?
        if let coordinator = commits { beforeTables = { await coordinator.recoverAtStart() } }
        let (statuses, sequenceError) = await shards.prepare(beforeTables: beforeTables)
        let report = ShardReport(statuses: statuses)
        if check {
            print(report.lines.joined(separator: "\n"))
            if let sequenceError { print("id sequences: \(sequenceError)") }
            if !report.allUsable || sequenceError != nil { throw ExitCode(1) }
            return
        }
        if let unusable = statuses.first(where: { $0.error.map { $0.cause != .unreachable } ?? false }) {
            // Reachable and refused (e.g. no prepared transactions for atomic commits): a
            // mistake of the setup, not an outage to wait out.
            logger.error("shard \(unusable.shard.name) cannot serve: \(unusable.error!.message)")
            throw ExitCode(1)
        }
        for status in statuses {
            if let error = status.error {
                logger.warning("shard \(status.shard.name) (\(status.shard.dialect.backend.rawValue)) is unreachable: \(error.message)")
            } else {
                logger.info("shard \(status.shard.name) (\(status.shard.dialect.backend.rawValue)) \(status.shard.spec.location.redacted): ready")
            }
        }
        if let sequenceError {
            logger.error("id sequences: \(sequenceError)")
            throw ExitCode(1)
        }
        let context = try ServerContext(configuration: configuration, shards: shards, logger: logger, commits: commits)
        let server = Server(context: context)
        // Shut down in reverse order: the server first (it finishes the sessions), then the rest.
        let services: [any Service] = [ShardMonitor(shards: shards), CommitRecovery(commits: context.commits), await HangupListener(logger: logger), server]
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            logger.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// `--config`, else `./shards.conf`, else the built-in default resolved against the
    /// working directory.
    private func loadConfiguration(logger: Logger) throws -> Configuration {
        if let config {
            return try ConfigLoader.load(path: config)
        }
        if FileManager.default.fileExists(atPath: "shards.conf") {
            return try ConfigLoader.load(path: "shards.conf")
        }
        logger.notice("no ./shards.conf: using the built-in default (four SQLite shards under ./data)")
        return try ConfigLoader.parse(
            DefaultConfiguration.text, file: "(built-in shards.conf)",
            baseDirectory: FileManager.default.currentDirectoryPath,
            environment: ProcessInfo.processInfo.environment
        )
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
