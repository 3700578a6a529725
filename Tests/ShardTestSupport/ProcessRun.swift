import Foundation

/// The finished output of a child process.
package struct ProcessRun {
    package var status: Int32
    package var stdout: String
    package var stderr: String
    package var output: String { stdout + stderr }
}

extension Process {
    package static func output(of executable: String, _ arguments: [String], in directory: String? = nil,
                       environment: [String: String] = [:]) throws -> ProcessRun {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        // Files rather than pipes: nothing can block on a full pipe while we wait.
        let outputDirectory = FileManager.default.temporaryDirectory
        let outURL = outputDirectory.appendingPathComponent("shardd-out-\(UUID().uuidString)")
        let errURL = outputDirectory.appendingPathComponent("shardd-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return ProcessRun(status: process.terminationStatus,
                          stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                          stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

/// Runs the `shardd` binary built beside the test bundle to completion.
package enum Shardd {
    package static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]) throws -> ProcessRun {
        try Process.output(of: Daemon.binary, arguments, in: directory, environment: environment)
    }
}
