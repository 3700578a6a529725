import ArgumentParser

/// The weather-report example workload (SQLAlchemy's examples/sharding) and a load generator,
/// played against shardd through ShardClient.
@main
struct Weather: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weather",
        abstract: "The weather-report example workload and load generator for shardd.",
        discussion: """
            Every subcommand talks to a running shardd (`swift run shardd`) over its socket: \
            --socket, else $SHARDD_SOCKET, else the [server] socket of ./shards.conf, else \
            ./shardd.sock. When nothing listens there, it exits with status 2.
            """,
        subcommands: [DemoCommand.self, SeedCommand.self, LoadCommand.self]
    )
}
