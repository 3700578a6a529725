import ArgumentParser
import Foundation
import ShardClient

/// `weather demo`: SQLAlchemy's examples/sharding weather scenario, step by step.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Plays SQLAlchemy's examples/sharding weather scenario against the daemon, step by step.",
        discussion: """
            The scenario of SQLAlchemy's examples/sharding/separate_databases.py (and asyncio.py): \
            seven cities on four continents and three reports (Tokyo 80.0, New York 75, Quito 85), \
            added in one session and committed; a get of Tokyo by primary key with its reports; a \
            query of North America, one of continent in (Europe, Asia), one pinned to the \
            north_america shard (set_shard_id); and the identity keys of the two reports with id 1, \
            one on asia and one on north_america. Every step prints the identity keys and the shards \
            the daemon asked.

            Running it again reuses the rows of an earlier run instead of adding them twice. It \
            checks what SQLAlchemy's example asserts and exits with status 1 when a check fails.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp(
        "After the scenario, keep the session (and its identity map) open this many seconds, e.g. to see its keys with `shardctl keys`.",
        valueName: "seconds"))
    var hold: Double = 0

    func validate() throws {
        guard hold >= 0, hold.isFinite else { throw ValidationError("--hold must be 0 or more seconds") }
    }

    func run() async throws {
        let session = try await connection.connect(client: "weather demo")
        defer { session.close() }
        let failures = try await Console.reportingErrors("demo") {
            var scenario = DemoScenario(session: session)
            try await scenario.play()
            return scenario.failures
        }
        if !failures.isEmpty {
            fflush(nil)
            Console.error("weather demo: \(failures.count) check\(failures.count == 1 ? "" : "s") of SQLAlchemy's example failed:")
            for failure in failures { Console.error("  " + failure) }
            throw ExitCode(1)
        }
        if hold > 0 {
            print("holding session \(session.server.session) open for \(hold) s: its identity keys show in `shardctl keys`")
            fflush(nil)
            try? await Task.sleep(for: .seconds(hold))
        }
    }
}
