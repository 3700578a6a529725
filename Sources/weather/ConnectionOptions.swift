import ArgumentParser
import ShardClient

/// The options every subcommand shares: where the daemon listens.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's socket (default: $SHARDD_SOCKET, else the [server] socket of ./shards.conf, else ./shardd.sock).",
        valueName: "path"))
    var socket: String?

    /// The socket path to use: `--socket`, else the client library's default rules.
    var socketPath: String {
        socket ?? ShardSession.defaultSocketPath()
    }

    /// Opens one session.
    /// - Throws: `ExitCode(2)` after printing the library's message when nothing listens at
    ///   the socket ("no shardd listening at PATH; start it with `swift run shardd`").
    func connect(client: String) async throws -> ShardSession {
        do {
            return try await ShardSession.connect(socketPath: socketPath, client: client)
        } catch let error as ShardError where error.code == .cannotConnect {
            Console.error(error.message)
            throw ExitCode(2)
        }
    }
}
