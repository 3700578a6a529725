import Foundation
import ShardClient

/// The demo's steps beyond SQLAlchemy's example: what its users reach for next (conditions on
/// related rows, a computed update, pages, a listener), each leaving the example's rows as
/// they were so that the demo can run again.
extension DemoScenario {
    /// The ids of the example's locations, to keep rows of `weather seed` out of the output.
    private var locationIDs: [Int64] { Self.cities.compactMap { locations[$0.city]?.id } }

    // MARK: - 7. any: locations with a hot report

    mutating func hotLocations() async throws {
        step(7, "query WeatherLocation where any of its reports has temperature >= 80 (SQLAlchemy's any())")
        let result = try await session.query(WeatherLocation.self)
            .where(.any("reports", Column("temperature") >= 80) && Column("id").in(locationIDs))
            .orderBy("city")
            .fetch()
        line("asked shards \(names(result.shards)) (each shard checks its own locations' reports: an EXISTS there)")
        for location in result.objects { line("-> \(Self.describe(location.value)) key \(location.key)") }
        check(result.objects.map(\.city) == ["Quito", "Tokyo"], "the hot locations are \(result.objects.map(\.city)), expected Quito and Tokyo")
    }

    // MARK: - 8. a computed update, narrowed by has

    mutating func correctTokyo() async throws {
        step(8, "update Report set temperature = temperature + 1.5 where has location with city = \"Tokyo\", then roll back")
        let corrected = try await session.query(Report.self)
            .where(.has("location", Column("city") == "Tokyo" && Column("continent") == "Asia") && Column("location_id").in(locationIDs))
            .update(.set("temperature", Column("temperature") + 1.5))
        line("update_where -> \(corrected.count) row(s) on shards \(names(corrected.shards)) (the has names Asia: the execute chooser asked asia only)")
        guard let report = reportsByCity["Tokyo"] else { return fail("Tokyo's report is missing") }
        let now = try await session.get(report.key, as: Report.self)
        line("Tokyo's report in the identity map: \(Self.temperature(now?.temperature)) (computed by the shard, 80.0 + 1.5)")
        check(now?.temperature == 81.5 && corrected.shards == ["asia"],
              "the correction gave \(Self.temperature(now?.temperature)) on \(corrected.shards), expected 81.5 on asia")
        let shards = try await session.rollback()
        line("rollback on \(names(shards)): the example's rows stay as they were")
    }

    // MARK: - 9. pages without offsets

    mutating func reportPages() async throws {
        step(9, "the example's reports by temperature, hottest first, in pages of 1 (cursors, no offset)")
        var number = 0
        var temperatures: [Double?] = []
        for try await page in session.query(Report.self).where(Column("location_id").in(locationIDs)).orderBy("-temperature", "id").pages(size: 1) {
            number += 1
            for report in page {
                temperatures.append(report.temperature)
                line("page \(number): \(Self.temperature(report.temperature)) key \(report.key)")
            }
        }
        line("each page asked every shard for the one row after the last page's (a cursor), however deep")
        check(temperatures == [85, 80, 75], "the pages gave \(temperatures.map(Self.temperature)), expected 85.0, 80.0, 75.0")
    }

    // MARK: - 10. a listener in another session

    mutating func changeFeed() async throws {
        step(10, "a second session subscribes to hot reports; this one adds one for Dublin and commits")
        guard let dublin = locations["Dublin"]?.id else { return fail("Dublin is missing") }
        let listener = try await ShardSession.connect(socketPath: session.socketPath, client: "weather demo listener")
        defer { listener.close() }
        let changes = try await listener.changes(of: Report.self, where: Column("temperature") >= 80 && Column("location_id").in(locationIDs))
        line("session \(listener.server.session): subscribe Report where temperature >= 80 -> subscription \(changes.subscription)")
        let heard = Task { () throws -> ChangeEvent<Report>? in
            for try await change in changes { return change }
            return nil
        }
        let added = try await session.add(Report(locationID: dublin, temperature: 88, reportTime: Date()))
        line("session \(session.server.session): add Report 88.0 of Dublin -> key \(added.key) (not yet committed: nothing is told)")
        _ = try await session.commit()
        line("session \(session.server.session): commit")
        let event = try await Self.first(of: heard, within: .seconds(5))
        if let event {
            line("session \(listener.server.session) hears: \(event.kind.rawValue) \(event.key) temperature \(Self.temperature(event.object.temperature)) (seq \(event.seq))")
        }
        check(event?.kind == .insert && event?.key == added.key, "the listener heard \(event.map { "\($0.kind) \($0.key)" } ?? "nothing"), expected the insert of \(added.key)")
        try await session.delete(added)
        _ = try await session.commit()
        line("delete it again and commit: the example's rows stay as they were")
    }

    /// The task's value, or nil (and the task cancelled) after `limit`.
    private static func first(of task: Task<ChangeEvent<Report>?, any Error>, within limit: Duration) async throws -> ChangeEvent<Report>? {
        try await withThrowingTaskGroup(of: ChangeEvent<Report>?.self) { group in
            group.addTask { try await task.value }
            group.addTask {
                try await Task.sleep(for: limit)
                task.cancel()
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
