import ArgumentParser
import Foundation
import ShardClient

/// The options every subcommand takes: where the daemon is, and how to print its answer.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The daemon's Unix socket (default: $SHARDD_SOCKET, else the [server] socket of ./shards.conf, else ./shardd.sock).",
        valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's answer as one JSON document (machine-readable) instead of a table.")
    var json = false

    /// Connects, sends one request, and prints its answer: as JSON with `--json`, else as `human` renders it.
    ///
    /// Failures are printed as `error[code]: message` on stderr (with `--json`, also the error
    /// object as `{"error":{...}}` on stdout) and end the program with `ExitStatus`.
    func perform(_ request: (DynamicSession) async throws -> JSONValue,
                 human: (JSONValue, ShardSession) throws -> String) async throws {
        try await withSession { session in
            let answer = try await request(session.dynamic)
            try print(answer, human: try human(answer, session))
        }
    }

    /// Connects and runs `body` (for commands that send several requests or print as they
    /// go); its failures are printed and end the program as `perform`'s do.
    func withSession(_ body: (ShardSession) async throws -> Void) async throws {
        let session: ShardSession
        do {
            session = try await ShardSession.connect(socketPath: socket, client: "shardctl")
        } catch {
            throw fail(error)
        }
        defer { session.close() }
        do {
            try await body(session)
        } catch let error as ShardError {
            throw fail(error)
        }
    }

    /// Prints one answer: as one JSON line with `--json`, else the `human` text.
    func print(_ answer: JSONValue, human: @autoclosure () throws -> String) rethrows {
        if json {
            Output.line(answer.description)
        } else {
            let text = try human()
            if !text.isEmpty { Output.line(text) }
        }
    }

    /// Prints `error` and returns the exit status to end with.
    private func fail(_ error: any Error) -> ExitCode {
        let shardError = error as? ShardError ?? ShardError(.internal, "\(error)")
        Output.error(shardError)
        if json {
            var object: JSONValue.Object = ["code": .string(shardError.code.rawValue), "message": .string(shardError.message)]
            for member in shardError.details { object[member.key] = member.value }
            Output.line(JSONValue.object(["error": .object(object)]).description)
        }
        return ExitStatus.of(shardError)
    }
}

/// The exit statuses of shardctl.
enum ExitStatus {
    /// The daemon answered with an error (or answered something the client could not read).
    static let daemonError = ExitCode(1)
    /// No daemon could be reached at the socket, or the connection closed before the answer.
    static let cannotConnect = ExitCode(2)

    static func of(_ error: ShardError) -> ExitCode {
        switch error.code {
        case .cannotConnect, .connectionLost: return cannotConnect
        default: return daemonError
        }
    }
}
