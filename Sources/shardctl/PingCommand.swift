import ArgumentParser
import ShardClient

/// `shardctl ping`: checks that the daemon answers.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Check that shardd answers, and how fast.",
        discussion: "The time is that of the ping request alone, after connecting; exit status 2 when nothing answers."
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        var elapsed = Duration.zero
        try await options.perform({ db in
            let start = ContinuousClock.now
            let answer = try await db.ping()
            elapsed = ContinuousClock.now - start
            return answer
        }, human: { _, _ in
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            return "pong (\(microseconds) µs)"
        })
    }
}
