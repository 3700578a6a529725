import Foundation
import ShardCore
import ShardProtocol

/// Where move jobs live: one small interface beside `CommitStore` and `PlacementStore`, so
/// that a catalog shard can hold them for several daemons later without a rewrite.
package protocol JobStore: Sendable {
    /// Every job, oldest first; none before the first.
    func load() throws -> [MoveJob]
    /// Replaces them, durably.
    func save(_ jobs: [MoveJob]) throws
    /// Adds to the keys a step renumbered, durably (`load` gives them back in the job's
    /// `rekeyed`, for steps that switched).
    func appendRekeyed(_ pairs: [MoveJob.Rekey], job: Int, step: Int) throws
    /// Forgets what a step renumbered (it runs again from the start).
    func clearRekeyed(job: Int, step: Int) throws
}

/// `state_dir/jobs.json`: `{"jobs": [...]}` (`MoveJob+JSON`), replaced atomically.
package struct JobFile: JobStore {
    package let stateDir: String
    package var path: String { stateDir + "/jobs.json" }

    package init(stateDir: String) {
        self.stateDir = stateDir
    }

    package func load() throws -> [MoveJob] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do {
            guard case .array(let items)? = try JSONValue.parse(Array(data))["jobs"] else {
                throw MoveJob.FormatError(description: "expected {\"jobs\": [...]}")
            }
            var jobs = try items.map { item throws(MoveJob.FormatError) in try MoveJob(fileJSON: item) }
            for index in jobs.indices {
                for (step, item) in jobs[index].steps.enumerated() where item.phase == .switched || item.phase == .done {
                    jobs[index].rekeyed += try readRekeyed(job: jobs[index].id, step: step)
                }
            }
            return jobs
        } catch {
            throw CommitLog.Failure(description: "\(path) cannot be read (\(error)): it says which moves may be half done, so shardd will not start without it; restore it from a backup")
        }
    }

    private func rekeyedPath(job: Int, step: Int) -> String {
        stateDir + "/rekeyed-\(job)-\(step).jsonl"
    }

    /// One `[old, new]` per line; a torn last line (a crash while appending) is left out.
    private func readRekeyed(job: Int, step: Int) throws -> [MoveJob.Rekey] {
        guard let data = FileManager.default.contents(atPath: rekeyedPath(job: job, step: step)) else { return [] }
        var out: [MoveJob.Rekey] = []
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let json = try? JSONValue.parse(Array(line)) else { continue }
            out.append(try MoveJob.Rekey(fileJSON: json))
        }
        return out
    }

    package func appendRekeyed(_ pairs: [MoveJob.Rekey], job: Int, step: Int) throws {
        guard !pairs.isEmpty else { return }
        var bytes: [UInt8] = []
        for pair in pairs { bytes += Array((pair.fileJSON.serialized + "\n").utf8) }
        try StateDirectory.append(rekeyedPath(job: job, step: step), bytes, in: stateDir)
    }

    package func clearRekeyed(job: Int, step: Int) throws {
        let path = rekeyedPath(job: job, step: step)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }

    package func save(_ jobs: [MoveJob]) throws {
        let json = JSONValue.object(JSONObject([("jobs", .array(jobs.map(\.fileJSON)))]))
        try StateDirectory.replace(path, with: Array((json.serialized + "\n").utf8), in: stateDir)
    }
}
