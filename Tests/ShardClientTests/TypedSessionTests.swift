import Foundation
import ShardClient
import ShardTestSupport
import Testing

/// The typed API against the real daemon (the weather example on four SQLite shards).
@Suite struct TypedSessionTests {
    @Test func addGetAndQuery() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath, client: "typed-tests")
        #expect(session.server.shards == ["north_america", "asia", "europe", "south_america"])
        #expect(session.server.models == ["WeatherLocation", "Report"])
        #expect(session.server.protocolVersion == 1)

        // add: the shard chooser maps continent to shard; the daemon makes the id.
        let newYork = try await session.add(cities[0])
        #expect(newYork.key == IdentityKey(model: "WeatherLocation", primaryKey: [.int(1)], token: "north_america"))
        #expect(newYork.value == WeatherLocation(id: 1, continent: "North America", city: "New York"))
        #expect(newYork.city == "New York")
        // add(contentsOf:): one request, input order kept.
        let others = try await session.add(contentsOf: cities.dropFirst())
        #expect(others.map(\.city) == cities.dropFirst().map(\.city))
        #expect(others.map(\.key.shard) == ["north_america", "asia", "asia", "europe", "europe", "south_america", "south_america"])
        let tokyo = others[1]
        let reports = try await session.add(contentsOf: [
            Report(locationID: tokyo.id!, temperature: 80, reportTime: reportTime),
            Report(locationID: newYork.id!, temperature: 75),
        ])
        // Children live with their parent; shard_local ids repeat across shards.
        #expect(reports.map(\.key) == [IdentityKey(model: "Report", primaryKey: [1], token: "asia"),
                                       IdentityKey(model: "Report", primaryKey: [1], token: "north_america")])
        #expect(reports[0].reportTime == reportTime)
        #expect(try await session.commit() == ["north_america", "asia", "europe", "south_america"])

        // get: by primary key, by key, missing.
        #expect(try await session.get(WeatherLocation.self, tokyo.id!)?.value == tokyo.value)
        #expect(try await session.get(tokyo.key, as: WeatherLocation.self, fresh: true)?.city == "Tokyo")
        #expect(try await session.get(WeatherLocation.self, 999) == nil)
        #expect(try await session.get(Report.self, 1, shard: "north_america")?.temperature == 75)

        // The query builder: where, orderBy, limit, offset, shard; the shards asked.
        let asiaAndEurope = try await session.query(WeatherLocation.self)
            .where(Column("continent").in(["Asia", "Europe"]))
            .orderBy("city")
            .fetch()
        #expect(asiaAndEurope.objects.map(\.city) == ["Dublin", "London", "Osaka", "Tokyo"])
        #expect(asiaAndEurope.shards == ["asia", "europe"])
        let page = try await session.query(WeatherLocation.self).orderBy(Column("city").descending).limit(2).offset(1).all()
        #expect(page.map(\.city) == ["Tokyo", "Quito"])
        let pinned = try await session.query(WeatherLocation.self).where(Column("city").startsWith("T")).shard("north_america").fetch()
        #expect(pinned.objects.map(\.city) == ["Toronto"])
        #expect(pinned.shards == ["north_america"])
        let equalities = try await session.query(WeatherLocation.self).where(["continent": "Europe", "city": "London"]).all()
        #expect(equalities.map(\.city) == ["London"])
        let combined = try await session.query(WeatherLocation.self)
            .where((Column("city").like("%o%") && !Column("continent").in(["Asia"])) || Column("city") == "Osaka")
            .orderBy("city").all()
        #expect(combined.map(\.city) == ["London", "New York", "Osaka", "Quito", "Toronto"])
        #expect(try await session.query(WeatherLocation.self).orderBy("-city").first()?.city == "Toronto")
        #expect(try await session.query(WeatherLocation.self).where(Column("city") == "Atlantis").first() == nil)
        #expect(try await session.query(WeatherLocation.self).count() == 8)
        let perShard = try await session.query(WeatherLocation.self).where(Column("continent") == "Asia").countPerShard()
        #expect(perShard.count == 2)
        #expect(perShard.shards == ["asia"])
        #expect(perShard.perShard == ["asia": 2])
        let hot = try await session.query(Report.self).where(Column("temperature") >= 80).all()
        #expect(hot.map(\.key) == [reports[0].key])
        #expect(try await session.query(Report.self).where(Column("report_time").isNull).count() == 1)
        #expect(try await session.query(Report.self).where(Column("report_time").isNotNull).all().map(\.reportTime) == [reportTime])
        #expect(try await session.query(Report.self).where(Column("temperature").between(70, 76)).count() == 1)
        #expect(try await session.query(Report.self).where(Column("report_time") == reportTime).count() == 1)
        #expect(try await session.query(WeatherLocation.self).where(Column("id").notIn([1, 2, 3])).count() == 5)

        // include: related objects come with each object, read as model types.
        let withReports = try await session.query(WeatherLocation.self).where(Column("city") == "Tokyo").include("reports").all()
        #expect(withReports.count == 1)
        #expect(try withReports[0].related.many("reports", as: Report.self).map(\.temperature) == [80])
        #expect(withReports[0].related.names == ["reports"])
        #expect(throws: ShardError.self) { try withReports[0].related.one("reports", as: Report.self) }
        let report = try await session.get(Report.self, 1, shard: "asia", include: ["location"])
        #expect(try report?.related.one("location", as: WeatherLocation.self)?.city == "Tokyo")
        await #expect(throws: ShardError.self) { try await session.query(WeatherLocation.self).limit(1).delete() }
    }

    @Test func loadRefreshUpdateDelete() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, reports) = try await seed(session)
        let tokyo = locations[2]

        // load follows the token; to-many and to-one.
        let tokyoReports = try await session.load("reports", of: tokyo, as: Report.self)
        #expect(tokyoReports.map(\.temperature) == [80, 82.5])
        #expect(try await session.loadOne("location", of: tokyoReports[0], as: WeatherLocation.self)?.value == tokyo.value)

        // update: the changed columns only; the key stays.
        var report = tokyoReports[0]
        report.temperature = 91.5
        report.reportTime = nil
        let updated = try await session.update(report)
        #expect(updated.key == report.key)
        #expect(updated.temperature == 91.5)
        #expect(updated.reportTime == nil)
        // Nothing changed: nothing is sent, the object comes back as it is.
        #expect(try await session.update(updated) == updated)
        let set = try await session.update(updated, set: ["temperature": 60.0, "report_time": reportTime])
        #expect(set.temperature == 60)
        #expect(set.reportTime == reportTime)
        // Setting the shard key to a value of the same shard is allowed.
        #expect(try await session.update(tokyo, set: ["continent": "Asia"]).continent == "Asia")
        var renamed = tokyo
        renamed.city = "Tōkyō"
        #expect(try await session.update(renamed).city == "Tōkyō")

        // refresh reads the row again (another session changed it).
        let other = try await ShardSession.connect(socketPath: daemon.socketPath)
        try await session.commit()
        let otherCopy = try #require(try await other.get(Report.self, primaryKey: [report.key.primaryKey[0]], shard: "asia"))
        try await other.update(otherCopy, set: ["temperature": -5.25])
        try await other.commit()
        #expect(try await session.get(report.key, as: Report.self)?.temperature == 60)  // the identity map
        #expect(try await session.refresh(set).temperature == -5.25)
        #expect(try await session.get(report.key, as: Report.self, fresh: true)?.temperature == -5.25)

        // delete: the row and its key are gone.
        try await session.delete(reports[3])
        #expect(try await session.get(reports[3].key, as: Report.self) == nil)
        try await session.commit()
        #expect(try await session.query(Report.self).count() == 3)
        other.close()
    }

    @Test func bulkWritesAndAggregates() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, _) = try await seed(session)

        let averages = try await session.aggregate(Report.self, [.avg("temperature"), .count(), .max("temperature", as: "hottest")],
                                                   groupBy: ["location_id"], orderBy: ["location_id"])
        struct Row: Decodable, Equatable {
            var location_id: Int64
            var avg_temperature: Double?
            var count: Int
            var hottest: Double?
        }
        #expect(try averages.decode(as: Row.self) == [
            Row(location_id: locations[0].id!, avg_temperature: 75, count: 1, hottest: 75),
            Row(location_id: locations[2].id!, avg_temperature: 81.25, count: 2, hottest: 82.5),
            Row(location_id: locations[4].id!, avg_temperature: nil, count: 1, hottest: nil),
        ])
        #expect(averages.rows[1]["avg_temperature"] == .real(81.25))
        #expect(averages.shards == ["north_america", "asia", "europe", "south_america"])
        let having = try await session.query(Report.self).where(Column("temperature").isNotNull)
            .aggregate([.count(as: "n")], groupBy: ["location_id"], having: Column("n") > 1)
        #expect(having.rows == [["location_id": locations[2].id!, "n": 2]])

        // update_where / delete_where, routed by the shard key.
        let warmed = try await session.query(WeatherLocation.self).where(Column("continent") == "Europe").update(set: ["city": "Paris"])
        #expect(warmed.count == 2)
        #expect(warmed.shards == ["europe"])
        #expect(warmed.perShard == ["europe": 2])
        let cooled = try await session.updateWhere(Report.self, Column("temperature") > 78, set: ["temperature": 0.5])
        #expect(cooled.count == 2)
        #expect(try await session.query(Report.self).where(Column("temperature") == 0.5).count() == 2)
        let removed = try await session.deleteWhere(Report.self, Column("temperature") == 0.5, shards: ["asia"])
        #expect(removed.count == 2)
        #expect(removed.shards == ["asia"])
        #expect(try await session.query(WeatherLocation.self).where(Column("continent") == "South America").delete().count == 2)
        try await session.commit()
        #expect(try await session.query(WeatherLocation.self).count() == 6)
        #expect(try await session.query(Report.self).count() == 2)
    }

    @Test func transactionsAndTheIdentityMap() async throws {
        let daemon = try Daemon()
        defer { daemon.stop() }
        let session = try await ShardSession.connect(socketPath: daemon.socketPath)
        let (locations, reports) = try await seed(session)

        // Two reports with id 1 on two shards are two identities.
        let reportKeys = try await session.identityKeys(Report.self)
        #expect(Set(reportKeys) == Set(reports.map(\.key)))
        #expect(reportKeys.filter { $0.primaryKey == [1] }.map(\.shard).sorted() == ["asia", "europe", "north_america"])
        #expect(try await session.identityKeys().count == locations.count + reports.count)
        #expect(try await session.expunge(locations[0]))
        #expect(try await session.expunge(locations[0].key) == false)
        #expect(try await session.identityKeys(model: "WeatherLocation").count == locations.count - 1)
        #expect(try await session.expungeAll() == locations.count + reports.count - 1)
        #expect(try await session.identityKeys().isEmpty)

        // begin / rollback: nothing of the transaction stays, the map is emptied.
        #expect(try await session.begin() == [])
        let lima = try await session.add(WeatherLocation(continent: "South America", city: "Lima"))
        #expect(try await session.query(WeatherLocation.self).where(Column("city") == "Lima").count() == 1)
        #expect(try await session.rollback() == ["south_america"])
        #expect(try await session.get(lima.key, as: WeatherLocation.self) == nil)
        #expect(try await session.identityKeys().isEmpty)

        // transaction { }: committed when the body returns, rolled back when it throws.
        let kyoto = try await session.transaction {
            try await session.add(WeatherLocation(continent: "Asia", city: "Kyoto"))
        }
        struct Abandon: Error {}
        await #expect(throws: Abandon.self) {
            try await session.transaction {
                try await session.add(WeatherLocation(continent: "Asia", city: "Nara"))
                throw Abandon()
            }
        }
        let other = try await ShardSession.connect(socketPath: daemon.socketPath)
        #expect(try await other.get(kyoto.key, as: WeatherLocation.self)?.city == "Kyoto")
        #expect(try await other.query(WeatherLocation.self).where(Column("city") == "Nara").count() == 0)
        try await session.ping()
    }
}
