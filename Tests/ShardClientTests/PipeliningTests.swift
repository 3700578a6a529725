import Foundation
import ShardClient
import ShardTestSupport
import Testing

/// One session used from many tasks: requests pipelined on one connection, each answer to
/// its own request; cancelled waits do not put the connection out of step.
@Suite struct PipeliningTests {
    @Test func sixteenTasksOnOneSessionEachGetTheirOwnAnswers() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let continents = ["North America", "Asia", "Europe", "South America"]
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var failures = 0
                    for round in 0..<40 {
                        let city = "City \(task)-\(round)"
                        let added = try await session.add(WeatherLocation(continent: continents[task % 4], city: city))
                        if added.city != city { failures += 1 }
                        let got = try await session.get(added.key, as: WeatherLocation.self)
                        if got?.city != city || got?.id != added.id { failures += 1 }
                        let found = try await session.query(WeatherLocation.self).where(Column("city") == city).all()
                        if found.map(\.key) != [added.key] { failures += 1 }
                        let counted = try await session.dynamic.count(model: "WeatherLocation", where: Column("city").startsWith("City \(task)-"))
                        if counted["count"]?.intValue != Int64(round + 1) { failures += 1 }
                    }
                    return failures
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
        #expect(try await session.query(WeatherLocation.self).count() == 16 * 40)
        try await session.commit()
    }

    /// Tasks on the session's own executor (as `weather load` runs them): pipelined lanes all
    /// get their own answers, and each task resumes there after every answer.
    @Test func tasksOnTheSessionsExecutorGetTheirOwnAnswers() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        var added: [IdentityKey] = []
        for index in 0..<8 {
            added.append(try await session.add(WeatherLocation(continent: "Asia", city: "City \(index)")).key)
        }
        try await session.commit()
        let keys = added
        let executor = session.taskExecutor
        let failures = await withTaskGroup(of: Int.self) { group in
            for lane in 0..<16 {
                group.addTask(executorPreference: executor) {
                    var failures = 0
                    for round in 0..<50 {
                        let index = (lane + round) % keys.count
                        let got = try? await session.get(keys[index], as: WeatherLocation.self)
                        if got?.city != "City \(index)" { failures += 1 }
                        // swift_task_getPreferredTaskExecutor: the lane stays on the session's executor.
                        if withUnsafeCurrentTask(body: { $0?.unownedTaskExecutor }) != executor.asUnownedTaskExecutor() { failures += 1 }
                    }
                    return failures
                }
            }
            return await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    @Test func cancelledWaitsLeaveTheConnectionInStep() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        try await seed(session)
        let names = cities.map(\.city)

        // Many requests in flight; every other one is cancelled while it waits. A fast daemon
        // can answer a whole burst before the cancels land, so bursts repeat (at most five)
        // until some were cancelled; every burst's answers are checked.
        var answered = 0
        var cancelled = 0
        var sent = 0
        for _ in 0..<5 where cancelled == 0 {
            let tasks = (0..<2000).map { index in
                Task { () -> Bool in
                    let city = names[index % names.count]
                    let found = try await session.query(WeatherLocation.self).where(Column("city") == city).all()
                    return found.map(\.city) == [city]
                }
            }
            sent += tasks.count
            _ = try await tasks[0].value
            for (index, task) in tasks.enumerated() where index % 2 == 1 { task.cancel() }
            for (index, task) in tasks.enumerated() {
                do {
                    #expect(try await task.value, "request \(index) got another request's answer")
                    answered += 1
                } catch is CancellationError {
                    #expect(index % 2 == 1)
                    cancelled += 1
                }
            }
        }
        #expect(answered + cancelled == sent)
        #expect(cancelled > 0)

        // A task cancelled before it sends gets CancellationError and sends nothing.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await session.get(WeatherLocation.self, 1)
        }
        await #expect(throws: CancellationError.self) { try await early.value }

        // Afterwards the session answers each request with its own answer.
        for (index, city) in names.enumerated() {
            #expect(try await session.get(WeatherLocation.self, Int64(index + 1))?.city == city)
        }
        try await session.ping()
    }
}
