import ArgumentParser
import Foundation
import ShardClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the subcommands write: results on standard output, progress and errors on standard error.
enum Console {
    /// Whether standard output is a terminal: progress is then drawn as a bar that redraws in
    /// place, else written as plain lines.
    static let isInteractive: Bool = isatty(STDOUT_FILENO) == 1

    /// Writes a line on standard error.
    static func error(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Writes text on standard error as it is (no newline added), for progress bars.
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Runs `body`; a `ShardError` it throws is printed as `weather <command>: <code>: <message>`
    /// and ends the program with status 1 (2 when the daemon could not be reached).
    static func reportingErrors<Result>(_ command: String, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as ShardError {
            fflush(nil)
            Console.error("weather \(command): \(error)")
            throw ExitCode(error.code == .cannotConnect ? 2 : 1)
        }
    }
}
