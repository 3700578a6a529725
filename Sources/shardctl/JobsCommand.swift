import ArgumentParser
import Foundation
import ShardClient

/// `shardctl jobs [N] [--watch]`: move jobs and their progress.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List move jobs (rebalance, move) and their progress.",
        discussion: """
            One line per job: its number, kind, state (running, done, failed), moves done of all, \
            rows copied of the rows planned, when it started and finished, and why it failed. \
            With --watch (or --wait), follows job N (or the running one) until it ends, with a \
            progress bar on stderr when it is a terminal (rows copied, rate, time left); exits 1 \
            when the job failed.
            """
    )

    @OptionGroup var options: DaemonOptions

    @Argument(help: "Only this job.")
    var job: Int?

    @Flag(name: [.customLong("watch"), .customLong("wait")], help: "Follow the job until it ends, with a progress bar on a terminal.")
    var wait = false

    func run() async throws {
        let (job, wait) = (self.job, self.wait)
        var failed = false
        try await options.perform({ session in
            guard wait else { return try await session.jobs(job: job) }
            let number: Int
            if let job { number = job } else { number = try await Self.running(session) }
            let answer = try await Self.follow(number, session)
            failed = answer["jobs"]?[0]?["state"]?.stringValue == "failed"
            return answer
        }, human: { answer, _ in Self.render(answer) })
        if failed { throw ExitStatus.daemonError }
    }

    /// The number of the running job, else of the last one.
    static func running(_ session: DynamicSession) async throws -> Int {
        let jobs = try await session.jobs()["jobs"]?.arrayValue ?? []
        let job = jobs.first { $0["state"]?.stringValue == "running" } ?? jobs.last
        guard let number = job?["job"]?.intValue else { throw ShardError(.notFound, "there is no job to wait for") }
        return Int(number)
    }

    /// Polls job `number` until it is no longer running; on a terminal, a progress bar on
    /// stderr (moves, rows copied, rate, time left), redrawn in place.
    static func follow(_ number: Int, _ session: DynamicSession) async throws -> JSONValue {
        let terminal = isatty(2) == 1
        var rate = JobProgress()
        while true {
            let answer = try await session.jobs(job: number)
            guard let job = answer["jobs"]?[0] else { return answer }
            let copied = job["rows_copied"]?.intValue ?? 0, total = job["rows_total"]?.intValue ?? 0
            rate.sample(rows: copied, at: ContinuousClock.now)
            let running = job["state"]?.stringValue == "running"
            if terminal {
                let line = rate.line(job: number, movesDone: job["moves_done"]?.intValue ?? 0, moves: job["moves"]?.intValue ?? 0,
                                     copied: copied, total: total)
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\(running ? "" : "\n")".utf8))
            }
            if !running { return answer }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    static func render(_ answer: JSONValue) -> String {
        let jobs = answer["jobs"]?.arrayValue ?? []
        if jobs.isEmpty { return "no jobs" }
        var table = Table([.init("job", .right), .init("kind"), .init("state"), .init("moves", .right), .init("rows", .right),
                           .init("started"), .init("finished"), .init("error")])
        for job in jobs {
            table.append([Output.cell(job["job"]), Output.cell(job["kind"]), Output.cell(job["state"]),
                          "\(job["moves_done"]?.intValue ?? 0)/\(job["moves"]?.intValue ?? 0)",
                          "\(job["rows_copied"]?.intValue ?? 0)/\(job["rows_total"]?.intValue ?? 0)",
                          Output.cell(job["started_at"]), job["finished_at"]?.stringValue ?? "-", job["error"]?.stringValue ?? ""])
        }
        var text = table.rendered
        let rekeyed = jobs.reduce(Int64(0)) { $0 + ($1["rekeyed_count"]?.intValue ?? Int64($1["rekeyed"]?.arrayValue?.count ?? 0)) }
        if rekeyed > 0 {
            text += "\n\(rekeyed) row\(rekeyed == 1 ? "" : "s") got a new id on their new shard (--json lists the first 1,000 of each job; state_dir/rekeyed-*.jsonl all)"
        }
        return text
    }
}
