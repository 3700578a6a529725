import Foundation
import ShardClient
import ShardProtocol
import ShardTestSupport
import Synchronization
import Testing

/// What SQLAlchemy users reach for, through the typed client: `any` / `has`, computed
/// updates, pages, the change feed and `refresh(_:forUpdate:)`, against a real daemon.
@Suite struct ORMFeatureTests {
    @Test func relationshipConditionsReachTheRelatedRows() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        try await seed(session)
        let hot = Predicate.any("reports", Column("temperature") >= 80)
        #expect(hot.json == .array([.string("any"), .string("reports"), .array([.string(">="), .string("temperature"), .int(80)])]))
        #expect(try await session.query(WeatherLocation.self).where(hot).all().map(\.city) == ["Tokyo"])
        // Without a condition: every location with a report at all.
        let reported = try await session.query(WeatherLocation.self).where(.any("reports")).orderBy("city").all()
        #expect(reported.map(\.city) == ["London", "New York", "Tokyo"])
        let asian = try await session.query(Report.self).where(.has("location", Column("continent") == "Asia")).fetch()
        #expect(asian.objects.map(\.temperature) == [80, 82.5] && asian.shards == ["asia"])
        #expect(try await session.query(WeatherLocation.self).where(!Predicate.any("reports") && Column("continent") == "Asia").all().map(\.city) == ["Osaka"])
    }

    @Test func computedValuesAreTheShardsResults() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, reports) = try await seed(session)
        let tokyo = locations[2].id!
        #expect((Column("temperature") * (Column("temperature") + 1)).json
                == .array([.string("*"), .string("temperature"), .array([.string("+"), .string("temperature"), .int(1)])]))
        let corrected = try await session.query(Report.self).where(Column("location_id") == tokyo)
            .update(.set("temperature", Column("temperature") + 1.5))
        #expect(corrected.count == 2)
        let after = try await session.query(Report.self).where(Column("location_id") == tokyo).orderBy("id").all()
        #expect(after.map(\.temperature) == [81.5, 84])
        let doubled = try await session.update(after[0], .set("temperature", Column("temperature") * 2))
        #expect(doubled.temperature == 163)
        try await session.commit()
        // A value JSON cannot carry fails before anything is sent; the daemon refuses a bad type.
        await #expect(throws: ShardError.self) { try await session.update(reports[0], .set("temperature", Double.infinity)) }
        do {
            try await session.update(reports[0], .set("temperature", Column("temperature").concat("x")))
            Issue.record("concat on a real column was accepted")
        } catch let error as ShardError {
            #expect(error.code == .badRequest || error.code == .invalidValue, "\(error)")
        }
    }

    @Test func pagesFollowCursorsToTheEnd() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, _) = try await seed(session)
        _ = try await session.add(contentsOf: (0..<41).map { i in
            Report(locationID: locations[i % locations.count].id!, temperature: Double(i % 7), reportTime: nil)
        })
        try await session.commit()
        let query = session.query(Report.self).orderBy("-temperature", "id")
        var pages: [[Stored<Report>]] = []
        for try await page in query.pages(size: 10) { pages.append(page) }
        #expect(pages.map(\.count) == [10, 10, 10, 10, 5])
        let all = try await query.all()
        #expect(pages.flatMap { $0 }.map(\.key) == all.map(\.key))
        // A cursor is its query's own.
        let first = try await query.page(size: 10)
        #expect(first.next != nil && first.objects.count == 10)
        do {
            _ = try await session.query(Report.self).orderBy("id").page(size: 10, after: first.next)
            Issue.record("another query's cursor was accepted")
        } catch let error as ShardError {
            #expect(error.code == .badRequest)
        }
        var none = 0
        for try await _ in session.query(Report.self).where(Column("temperature") > 1000).pages(size: 5) { none += 1 }
        #expect(none == 0)
    }

    @Test func changesAreTypedEventsAfterCommits() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let watcher = try await ShardSession.connect(socketPath: daemon.socketPath)
        let writer = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, _) = try await seed(writer)
        let changes = try await watcher.changes(of: Report.self, where: Column("temperature") >= 80)
        let collected = Task { () throws -> [ChangeEvent<Report>] in
            var events: [ChangeEvent<Report>] = []
            for try await change in changes {
                events.append(change)
                if events.count == 2 { break }
            }
            return events
        }
        let hot = try await writer.add(Report(locationID: locations[2].id!, temperature: 90, reportTime: nil))
        _ = try await writer.add(Report(locationID: locations[2].id!, temperature: 10, reportTime: nil))
        try await writer.commit()
        try await writer.update(hot, set: ["temperature": 50.0])
        try await writer.commit()
        let events = try await collected.value
        #expect(events.map(\.kind) == [.insert, .update])
        #expect(events.map(\.key) == [hot.key, hot.key] && hot.key.token == "asia")
        #expect(events.map(\.object.temperature) == [90, 50])
        #expect(events.map(\.matches) == [true, false])
        #expect(events[0].seq < events[1].seq)
    }

    @Test func aFeedNotReadEndsWithOverflow() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let watcher = try await ShardSession.connect(socketPath: daemon.socketPath)
        let writer = try await ShardSession.connect(socketPath: daemon.socketPath)
        let location = try await writer.add(WeatherLocation(continent: "Europe", city: "Oslo"))
        try await writer.commit()
        let changes = try await watcher.changes(of: Report.self, events: [.insert])
        for _ in 0..<6 {
            _ = try await writer.add(contentsOf: (0..<2000).map { _ in Report(locationID: location.id!, temperature: 1, reportTime: nil) })
            try await writer.commit()
        }
        var read = 0
        do {
            for try await _ in changes { read += 1 }
            Issue.record("the feed ended without an error after \(read) events")
        } catch let error as ShardError {
            #expect(error.code == .subscriptionOverflow, "\(error)")
            #expect(read == 10_000, "\(read) events before the overflow")
        }
        // The session goes on, and a new subscription works.
        let again = try await watcher.changes(of: Report.self)
        _ = try await writer.add(Report(locationID: location.id!, temperature: 2, reportTime: nil))
        try await writer.commit()
        var iterator = again.makeAsyncIterator()
        #expect(try await iterator.next()?.object.temperature == 2)
        try await again.cancel()
        #expect(try await iterator.next() == nil)
    }

    @Test func refreshForUpdateHoldsOtherWritersUntilTheCommit() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let first = try await ShardSession.connect(socketPath: daemon.socketPath)
        let second = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (_, reports) = try await seed(first)
        let locked = try await first.refresh(reports[1], forUpdate: true)
        #expect(locked.temperature == 80)
        let done = Atomic<Bool>(false)
        let writing = Task {
            let written = try await second.update(reports[1], .set("temperature", Column("temperature") + 10))
            done.store(true, ordering: .sequentiallyConsistent)
            try await second.commit()
            return written.temperature
        }
        try await Task.sleep(for: .milliseconds(400))
        let answeredEarly = done.load(ordering: .sequentiallyConsistent)
        #expect(!answeredEarly, "the second writer did not wait for the lock")
        _ = try await first.update(locked, set: ["temperature": 1.0])
        try await first.commit()
        #expect(try await writing.value == 11)
    }
}
