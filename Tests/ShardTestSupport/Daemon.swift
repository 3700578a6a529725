import Foundation
import ShardCore
import ShardProtocol

/// A `shardd` process started from the built binary on a config in a temp directory, for
/// end-to-end tests; stopped with SIGTERM.
package final class Daemon {
    package let directory: TemporaryDirectory
    package let process: Process
    package let socketPath: String
    package let logPath: String

    /// The built `shardd` beside the test bundle.
    package static var binary: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("shardd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return bundleDirectory.appendingPathComponent("shardd").path
    }

    /// Writes `config` (the weather example when nil) and starts the daemon; returns once
    /// it accepts connections.
    package init(config: String? = nil, environment: [String: String] = [:], in directory: TemporaryDirectory = TemporaryDirectory()) throws {
        self.directory = directory
        socketPath = directory.path + "/shardd.sock"
        logPath = directory.path + "/shardd.log"
        try (config ?? DefaultConfiguration.text).write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Daemon.binary)
        process.arguments = ["--config", directory.path + "/shards.conf", "--log-level", "debug"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? LineClient(socketPath: socketPath, timeoutSeconds: 1)) != nil { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw TestSetupError("shardd did not start listening on \(socketPath): \(self.log())")
    }

    package func client() throws -> LineClient {
        try LineClient(socketPath: socketPath)
    }

    package func log() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// SIGTERM, then waits (bounded) for the exit status.
    @discardableResult
    package func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        return process.terminationStatus
    }

    deinit { stop() }
}
