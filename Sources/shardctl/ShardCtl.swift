import ArgumentParser

/// The admin CLI of shardd: looks at a running daemon (shards, sessions, identity keys, stats)
/// and reads rows for operators (get, query, count), over the daemon's socket.
@main
struct ShardCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardctl",
        abstract: "Inspect a running shardd and read its rows.",
        discussion: """
            Every subcommand takes --socket PATH (default: $SHARDD_SOCKET, else the [server] socket \
            of ./shards.conf, else ./shardd.sock) and --json (print the daemon's answer as one JSON \
            document instead of a table).

            Exit status: 0 success; 1 the daemon answered with an error (printed as \
            `error[code]: message` on stderr; with --json also as {"error":{"code":...,"message":...}} \
            on stdout); 2 shardd cannot be reached at the socket (or the connection was lost); \
            64 the command line is wrong (e.g. a --where that is not JSON).
            """,
        subcommands: [
            ShardsCommand.self, SessionsCommand.self, KeysCommand.self, StatsCommand.self, TransactionsCommand.self, ReloadCommand.self, ConfigCommand.self, PlacementCommand.self, RebalanceCommand.self, MoveCommand.self, JobsCommand.self, VerifyCommand.self, PingCommand.self,
            GetCommand.self, QueryCommand.self, CountCommand.self, WatchCommand.self,
        ]
    )
}
