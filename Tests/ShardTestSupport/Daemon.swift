import Glibc
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
    /// The environment it was started with (beyond the test's own).
    package let environment: [String: String]
    package let binaryPath: String

    /// The built `shardd` beside the test bundle.
    package static var binary: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("shardd").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return bundleDirectory.appendingPathComponent("shardd").path
    }

    /// The daemon built with `-Xswiftc -DSHARDD_FAULTS` (protocol.md 6.2) by scripts/test.sh:
    /// `$SHARDD_FAULTS_BINARY`, else `.build-faults/debug/shardd` of this package.
    package static func faultsBinary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["SHARDD_FAULTS_BINARY"], !path.isEmpty { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0])
        while directory.path != "/" && directory.lastPathComponent != ".build" { directory.deleteLastPathComponent() }
        let path = directory.deletingLastPathComponent().appendingPathComponent(".build-faults/debug/shardd").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSetupError("no fault build of shardd at \(path): run scripts/test.sh, or swift build --scratch-path .build-faults -Xswiftc -DSHARDD_FAULTS --product shardd")
        }
        return path
    }

    /// Writes `config` (the weather example when nil; nil with `keepConfig` leaves the
    /// directory's file as it is, for a restart) and starts the daemon; returns once it
    /// accepts connections.
    package init(config: String? = nil, environment: [String: String] = [:], in directory: TemporaryDirectory = TemporaryDirectory(),
                 binary: String? = nil, keepConfig: Bool = false) throws {
        self.directory = directory
        self.environment = environment
        self.binaryPath = binary ?? Daemon.binary
        socketPath = directory.path + "/shardd.sock"
        logPath = directory.path + "/shardd.log"
        if !keepConfig {
            try (config ?? DefaultConfiguration.text).write(toFile: directory.path + "/shards.conf", atomically: true, encoding: .utf8)
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = ["--config", directory.path + "/shards.conf", "--log-level", "debug"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        // A restart's log follows the last run's.
        try log.seekToEnd()
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

    /// The same daemon again, on the same directory, config and data (a restart after a
    /// kill), with `environment` (by default this one's without `SHARDD_FAULT`).
    package func restart(environment: [String: String]? = nil, binary: String? = nil) throws -> Daemon {
        stop()
        var next = environment ?? self.environment
        if environment == nil { next["SHARDD_FAULT"] = nil }
        return try Daemon(environment: next, in: directory, binary: binary ?? binaryPath, keepConfig: true)
    }

    /// Waits (bounded) for the process to end by itself (a fault point's SIGKILL); its status.
    @discardableResult
    package func waitForExit(seconds: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGKILL, and waits for it.
    package func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
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
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        return process.terminationStatus
    }

    deinit { stop() }
}

// @unchecked: tests hand a daemon from thread to thread only under a lock (the chaos test's
// killer), and `Process` may be signalled and waited for from any thread.
extension Daemon: @unchecked Sendable {}
