import ArgumentParser
import Foundation
import ShardClient

/// `weather load`: a closed-loop load generator over the seeded weather data.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Runs a closed-loop load of get, query, add, aggregate and ping requests and reports throughput and latency.",
        discussion: """
            Each client is one session (one connection) with --pipeline requests in flight: as \
            soon as one is answered the next is sent, until --duration has passed. Before it \
            starts, it reads the report id range of each shard and up to 1000 locations per \
            shard, so that every request asks for rows that exist (run `weather seed` first).

            The operations (--mix gives their relative weights):
              get        a Report by primary key with its shard named, fresh (read
                         from the shard, not from the session's identity map);
                         an id without a row counts as done
              query      half of the time 20 locations of one continent from an
                         id on (where continent = ... and id >= ...: one shard,
                         by the execute chooser), else the 10 latest reports of
                         one location (on the location's shard)
              add        one report for a sampled location, on its shard, then
                         commit (both timed; one add at a time per client)
              aggregate  avg(temperature) and count(*) grouped by location_id
                         for 5 locations of one shard, on that shard
              ping       the round trip with no database behind it: the
                         floor of the others on the same connections

            At the end: per operation the count, throughput and p50/p90/p99/max latency in \
            microseconds (HdrHistogram), and the errors by code. Live progress goes to standard \
            error (redrawn in place on a terminal, else one line a second). --json prints one \
            JSON document instead, with no progress: clients, pipeline, duration_s, mix, count, \
            throughput_per_s, latency_us, errors {code: n} and ops {op: {count, errors, \
            throughput_per_s, latency_us {p50, p90, p99, max}}}.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Concurrent clients, one session (connection) each.", valueName: "n"))
    var clients: Int = 4

    @Option(help: ArgumentHelp("Seconds to run.", valueName: "seconds"))
    var duration: Double = 10

    @Option(help: ArgumentHelp("Relative weights of the operations; those left out do not run.", valueName: "op=weight,..."))
    var mix: String = OperationMix.defaultText

    @Option(help: ArgumentHelp("Requests in flight per client (pipelined on its one connection).", valueName: "n"))
    var pipeline: Int = 1

    @Option(help: ArgumentHelp("Seed of the random keys and values; client task i draws from seed + i.", valueName: "n"))
    var seed: UInt64 = 20_261_121

    @Flag(help: "Print one JSON document at the end, and no progress.")
    var json = false

    @Flag(help: "Afterwards, read back every report an answered add wrote and compare it (exit 1 on a missing or changed one).")
    var checkWrites = false

    func validate() throws {
        guard clients >= 1 else { throw ValidationError("--clients must be at least 1") }
        guard pipeline >= 1 else { throw ValidationError("--pipeline must be at least 1") }
        guard duration > 0, duration.isFinite else { throw ValidationError("--duration must be a positive number of seconds") }
        _ = try OperationMix(parsing: mix)
    }

    func run() async throws {
        let mix = try OperationMix(parsing: mix)
        let setup = try await connection.connect(client: "weather load")
        let sample = try await Console.reportingErrors("load") {
            defer { setup.close() }
            return try await KeySample.learn(from: setup)
        }
        let shortages = mix.operations.compactMap(sample.shortage(for:))
        guard shortages.isEmpty else {
            Console.error("weather load: \(shortages.joined(separator: ", ")) at \(connection.socketPath); add some first, e.g. `weather seed --locations 1000 --reports-per-location 10`")
            throw ExitCode(1)
        }
        if !json {
            print("weather load: \(clients) client\(clients == 1 ? "" : "s") × pipeline \(pipeline) for \(duration) s against \(connection.socketPath), mix \(mix)")
            print("sample: \(sample.summary)")
        }

        let sessions = try await Console.reportingErrors("load") { try await connectClients() }
        defer { for session in sessions { session.close() } }
        let recorders = sessions.map { _ in ClientRecorder() }
        let turns = sessions.map { _ in WriteTurn() }

        let start = ContinuousClock.now
        let deadline = start + .nanoseconds(Int64((duration * 1e9).rounded()))
        let seconds = duration
        let progress = json ? nil : Task { await Self.showProgress(recorders, start: start, duration: seconds) }
        await withTaskGroup(of: Void.self) { group in
            for (client, session) in sessions.enumerated() {
                for lane in 0..<pipeline {
                    let generator = SeededGenerator(seed: seed &+ UInt64(client * pipeline + lane))
                    // On the session's own thread: each answer resumes its lane there.
                    group.addTask(executorPreference: session.taskExecutor) {
                        await Self.loop(session: session, sample: sample, mix: mix, recorder: recorders[client],
                                        writeTurn: turns[client], deadline: deadline, generator: generator, keepWrites: checkWrites)
                    }
                }
            }
        }
        let elapsed = ProgressBar.seconds(ContinuousClock.now - start)
        progress?.cancel()
        _ = await progress?.value

        var statistics = LoadStatistics()
        for recorder in recorders { statistics.add(recorder.snapshot) }
        var report = LoadReport(statistics: statistics, mix: mix, clients: clients, pipeline: pipeline,
                                requestedSeconds: duration, elapsedSeconds: elapsed, seed: seed)
        if checkWrites {
            let checker = try await connection.connect(client: "weather load check")
            report.writeCheck = try await WriteCheck.run(recorders.flatMap(\.writes), on: checker)
            checker.close()
        }
        print(json ? report.json.description : report.text)
        if report.writeCheck?.passed == false { throw ExitCode(1) }
    }

    /// One session per client, connected concurrently.
    private func connectClients() async throws -> [ShardSession] {
        try await withThrowingTaskGroup(of: (Int, ShardSession).self) { group in
            for index in 0..<clients {
                group.addTask { [connection] in (index, try await connection.connect(client: "weather load \(index + 1)")) }
            }
            var sessions: [ShardSession?] = Array(repeating: nil, count: clients)
            for try await (index, session) in group { sessions[index] = session }
            return sessions.map { $0! }
        }
    }

    /// One request in flight on `session`: draw an operation, run it, record it, until the deadline.
    /// An add first waits for the client's other add to commit (see `WriteTurn`); its latency
    /// is timed from when it is sent. A lost connection ends the loop (every later request of
    /// the session would fail at once).
    private static func loop(session: ShardSession, sample: KeySample, mix: OperationMix, recorder: ClientRecorder,
                             writeTurn: WriteTurn, deadline: ContinuousClock.Instant, generator: SeededGenerator, keepWrites: Bool) async {
        var generator = generator
        while ContinuousClock.now < deadline && !Task.isCancelled {
            let operation = mix.pick(using: &generator)
            let request = LoadRequest(operation, sample: sample, using: &generator)
            let writes = operation == .add
            if writes { await writeTurn.acquire() }
            let started = ContinuousClock.now
            let failure: ShardError.Code?
            do {
                let stored = try await request.run(on: session)
                recorder.record(operation, ContinuousClock.now - started)
                if keepWrites, let stored { recorder.wrote(stored) }
                failure = nil
            } catch let error as ShardError {
                recorder.recordError(operation, code: error.code.rawValue)
                failure = error.code
            } catch {
                failure = .connectionLost  // CancellationError: stop
            }
            if writes { await writeTurn.release() }
            if failure == .connectionLost { return }
        }
    }

    /// Operations and errors so far, once a second (redrawn in place on a terminal).
    private static func showProgress(_ recorders: [ClientRecorder], start: ContinuousClock.Instant, duration: Double) async {
        var previous = 0
        var previousTime = start
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if Task.isCancelled { break }
            let now = ContinuousClock.now
            let totals = recorders.map(\.progress).reduce((attempts: 0, errors: 0)) { ($0.attempts + $1.attempts, $0.errors + $1.errors) }
            let rate = Double(totals.attempts - previous) / max(ProgressBar.seconds(now - previousTime), 1e-9)
            previous = totals.attempts
            previousTime = now
            let elapsed = ProgressBar.seconds(now - start)
            let line = String(format: "%5.1f s  ", elapsed) + "\(ProgressBar.count(totals.attempts)) ops  "
                + "\(ProgressBar.count(Int(rate.rounded()))) ops/s  \(ProgressBar.count(totals.errors)) errors  "
                + (elapsed < duration ? "\(ProgressBar.clock(duration - elapsed)) left" : "waiting for the requests in flight")
            if Console.isInteractive {
                Console.progress("\r" + line + "\u{1B}[K")
            } else {
                Console.error(line)
            }
        }
        if Console.isInteractive { Console.progress("\r\u{1B}[K") }
    }
}
