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

            shardd migrate [--dry-run] brings every shard's tables up to the models (new tables, \
            columns and indexes; docs/config.md "Changing the schema") and exits.
            """
    )

    @Argument(help: ArgumentHelp("migrate: make the additive schema changes on every shard and exit.", valueName: "command"))
    var command: String?

    @Flag(name: .long, help: "With migrate: print, shard by shard, the statements that would run, and change nothing.")
    var dryRun = false

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Load the configuration, connect to every shard, compare each shard's tables with the models, print one line per shard and every difference, and exit: 0 if every shard is usable and matches, 1 otherwise. Changes nothing on the shards.")
    var check = false

    @Option(name: .long, help: ArgumentHelp("How much to log on standard error.", valueName: "level"))
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: ArgumentHelp("text (the default), or json: one JSON object per line with ts, level, label, message and the metadata, for log shippers.", valueName: "format"))
    var logFormat: LogFormat = .text

    enum LogFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    mutating func run() async throws {
        Self.bootstrapLogging(logLevel, format: logFormat)
        let logger = Logger(label: "shardd")
        // Trapped first: SIGHUP's default action would end a daemon still starting.
        let hangups = await HangupListener.trap()

        switch (command, check) {
        case (nil, _): break
        case ("migrate", false): break
        case ("migrate", true): throw ValidationError("--check and migrate do not go together: migrate --dry-run shows what migrate would do")
        case (let other?, _): throw ValidationError("unknown command \"\(other)\" (commands: migrate)")
        }
        if dryRun && command == nil { throw ValidationError("--dry-run goes with migrate: shardd migrate --dry-run") }
        let (fileConfiguration, source) = try Self.loadConfiguration(config, logger: logger)
        if command == "migrate" {
            try await Migrate(configuration: fileConfiguration, dryRun: dryRun).run()
            return
        }

        // Rows are routed by the durable placement, which shards.conf only adds to.
        let placed: (placement: PlacementMap, routing: Configuration)
        do {
            placed = try PlacementMap.open(PlacementFile(stateDir: fileConfiguration.server.stateDir), configuration: fileConfiguration, save: !check)
        } catch {
            if check { print("\(error)") } else { logger.error("\(error)") }
            throw ExitCode(1)
        }
        let configuration = placed.routing

        let phase = ServingPhase()
        var endpoint: MetricsEndpoint?
        if !check {
            do {
                try Server.claimSocket(configuration.server.socket)
                // Bound before the slow part of the start, so that /health says "starting".
                if let address = configuration.server.metricsListen {
                    endpoint = try await MetricsEndpoint(address: address, phase: phase, logger: logger)
                }
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
        let startup = await shards.start(beforeTables: beforeTables, applyChanges: check ? false : nil, record: !check) { shard, sql in
            logger.notice("shard \(shard): \(sql)")
        }
        let statuses = startup.statuses
        let report = ShardReport(statuses: statuses, inspections: startup.inspections)
        if check {
            print(report.lines.joined(separator: "\n"))
            if let error = startup.appliedModelsError { print("models last applied: \(error)") }
            if let error = startup.sequenceError { print("id sequences: \(error)") }
            if !startup.allMatch || startup.sequenceError != nil { throw ExitCode(1) }
            return
        }
        if let unusable = statuses.first(where: { $0.error.map { $0.cause != .unreachable } ?? false }) {
            // Reachable and refused (e.g. no prepared transactions for atomic commits): a
            // mistake of the setup, not an outage to wait out.
            logger.error("shard \(unusable.shard.name) cannot serve: \(unusable.error!.message)")
            throw ExitCode(1)
        }
        if let error = startup.appliedModelsError {
            logger.error("models last applied: \(error)")
            throw ExitCode(1)
        }
        let blocking = startup.refused + (configuration.server.createTables ? [] : startup.pending)
        if !blocking.isEmpty {
            let why = startup.refused.isEmpty
                ? "create_tables = false and the shards differ from the models; run shardd migrate (shardd migrate --dry-run shows what it would do)"
                : "shardd does not make these changes; nothing was changed on any shard"
            logger.error("the shards' tables differ from the models: \(why)")
            for difference in blocking { logger.error("\(difference)") }
            throw ExitCode(1)
        }
        for inspection in startup.inspections {
            if case .failure(let error) = inspection.drift {
                // Lost since it answered: served as any shard that is down at start.
                if error.cause == .unreachable {
                    logger.warning("shard \(inspection.shard.name): its tables could not be compared with the models (run shardd --check once it is back): \(error.message)")
                    continue
                }
                logger.error("shard \(inspection.shard.name): the tables could not be brought up to the models: \(error.message)")
                throw ExitCode(1)
            }
            for note in (try? inspection.drift.get())?.notes ?? [] { logger.notice("\(note)") }
        }
        for status in statuses {
            if let error = status.error {
                logger.warning("shard \(status.shard.name) (\(status.shard.dialect.backend.rawValue)) is unreachable: \(error.message)")
            } else {
                logger.info("shard \(status.shard.name) (\(status.shard.dialect.backend.rawValue)) \(status.shard.spec.location.redacted): ready")
            }
        }
        if let sequenceError = startup.sequenceError {
            logger.error("id sequences: \(sequenceError)")
            throw ExitCode(1)
        }
        let context = try ServerContext(configuration: configuration, shards: shards, logger: logger, commits: commits,
                                        placement: PlacementReport(placement: placed.placement, configured: fileConfiguration),
                                        source: source, phase: phase)
        endpoint?.attach(context)
        // A move cut short: a switch that committed gets its placement before the first request.
        await context.jobs.resume(context: context)
        let server = Server(context: context)
        // Shut down in reverse order: the server first (it finishes the sessions), then the rest.
        // Shards down at start, or whose tables could not be read then: prepared once they answer.
        let late = statuses.filter { $0.error != nil }.map(\.shard)
            + startup.inspections.filter { if case .failure = $0.drift { return true } else { return false } }.map(\.shard)
        // The endpoint stops after the server: /health says "stopping" while sessions finish.
        let services: [any Service] = [ShardMonitor(shards: shards, late: late, logger: logger), CommitRecovery(commits: context.commits)]
            + (endpoint.map { [$0] } ?? []) + [hangups.serving(context), server]
        await FaultPoint.reach(FaultPoint.startBeforeServing)
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
            context.jobs.stop()
        } catch {
            context.jobs.stop()
            logger.error("\(error)")
            throw ExitCode(1)
        }
    }

    /// `--config`, else `./shards.conf`, else the built-in default resolved against the
    /// working directory. A mistake is printed and exits with status 2.
    static func loadConfiguration(_ config: String?, logger: Logger) throws -> (Configuration, ConfigSource) {
        let source: ConfigSource
        if let config {
            source = .file(config)
        } else if FileManager.default.fileExists(atPath: "shards.conf") {
            source = .file("shards.conf")
        } else {
            logger.notice("no ./shards.conf: using the built-in default (four SQLite shards under ./data)")
            source = .builtIn(baseDirectory: FileManager.default.currentDirectoryPath)
        }
        do {
            return (try source.load(), source)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Logs to standard error at `level`, as text or as JSON lines.
    static func bootstrapLogging(_ level: Logger.Level, format: LogFormat) {
        LoggingSystem.bootstrap { label in
            if format == .json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
