import Foundation
import ShardClient

/// The steps of SQLAlchemy's examples/sharding weather scenario on one session, printed as
/// they run, with the checks the example asserts.
struct DemoScenario {
    /// The example's cities, in its `add_all` order (the example misspells Brasilia "Brasila"; this
    /// follows the README).
    static let cities: [WeatherLocation] = [
        WeatherLocation(continent: "Asia", city: "Tokyo"),
        WeatherLocation(continent: "North America", city: "New York"),
        WeatherLocation(continent: "North America", city: "Toronto"),
        WeatherLocation(continent: "Europe", city: "London"),
        WeatherLocation(continent: "Europe", city: "Dublin"),
        WeatherLocation(continent: "South America", city: "Brasilia"),
        WeatherLocation(continent: "South America", city: "Quito"),
    ]

    /// The example's reports: `tokyo.reports.append(Report(80.0))` and so on.
    static let reports: [(city: String, temperature: Double)] = [("Tokyo", 80.0), ("New York", 75), ("Quito", 85)]

    static var cityNames: [String] { cities.map(\.city) }

    let session: ShardSession
    /// Checks of the example that did not hold, as sentences.
    private(set) var failures: [String] = []
    /// The demo's locations by city, once added or found.
    private(set) var locations: [String: Stored<WeatherLocation>] = [:]
    /// The demo's reports by city, once added or found.
    private(set) var reportsByCity: [String: Stored<Report>] = [:]

    init(session: ShardSession) {
        self.session = session
    }

    mutating func play() async throws {
        print("weather demo: SQLAlchemy's examples/sharding weather scenario, played against shardd at \(session.socketPath)")
        print("shards: \(session.server.shards.joined(separator: ", ")) (session \(session.server.session))")
        print("queries 3 to 5 also say city in (the 7 cities), so that rows of `weather seed` and `weather load`")
        print("stay out of the output; the shards they ask are decided by the rest of the where, as in the example")
        try await addOrReuse()
        try await getTokyo()
        try await queryNorthAmerica()
        try await queryEuropeAndAsia()
        try await queryPinnedToNorthAmerica()
        try await identityKeys()
        try await hotLocations()
        try await correctTokyo()
        try await reportPages()
        try await changeFeed()
        print("")
        print(failures.isEmpty ? "done: every check of SQLAlchemy's example held." : "done, with \(failures.count) failed check(s).")
    }

    // MARK: - 1. add_all and commit (or the rows of an earlier run)

    private mutating func addOrReuse() async throws {
        step(1, "add the 7 locations and 3 reports in one session, then commit (rows of an earlier run are reused)")
        let found = try await session.query(WeatherLocation.self)
            .where(Column("city").in(Self.cityNames))
            .orderBy("id")
            .fetch()
        line("query WeatherLocation where city in (the 7 cities): asked shards \(names(found.shards)) -> \(found.objects.count) found")
        for location in found.objects where locations[location.city] == nil && location.continent == Self.continent(of: location.city) {
            locations[location.city] = location
        }
        for city in Self.cities where locations[city.city] != nil {
            line("found WeatherLocation \(Self.describe(city)) key \(locations[city.city]!.key) (an earlier run's)")
        }
        let missing = Self.cities.filter { locations[$0.city] == nil }
        let added = try await session.add(contentsOf: missing)
        for location in added {
            locations[location.city] = location
            line("add WeatherLocation \(Self.describe(location.value)) -> key \(location.key)")
        }

        let earlier = Self.reports.compactMap { report in
            added.contains { $0.city == report.city } ? nil : locations[report.city]?.id
        }
        if !earlier.isEmpty {
            // The locations are in the session's identity map, so the execute chooser routes a
            // location_id `in` to their shards only.
            let old = try await session.query(Report.self)
                .where(Column("location_id").in(earlier))
                .orderBy("id")
                .fetch()
            line("query Report where location_id in (\(earlier.map(String.init).joined(separator: ", "))): asked shards \(names(old.shards)) (the parents' shards) -> \(old.objects.count) found")
            for (city, temperature) in Self.reports {
                guard let location = locations[city],
                      let report = old.objects.first(where: { $0.locationID == location.id && $0.temperature == temperature })
                else { continue }
                reportsByCity[city] = report
                line("found Report \(Self.temperature(report.temperature)) of \(city) key \(report.key) (an earlier run's)")
            }
        }
        let newReports = Self.reports.filter { reportsByCity[$0.city] == nil }.map { report in
            (city: report.city, report: Report(locationID: locations[report.city]!.id!, temperature: report.temperature, reportTime: Date()))
        }
        // The shard chooser places each report on its location's shard (shard_by.parent).
        let addedReports = try await session.add(contentsOf: newReports.map(\.report))
        for (new, stored) in zip(newReports, addedReports) {
            reportsByCity[new.city] = stored
            line("add Report \(Self.temperature(stored.temperature)) of \(new.city) -> key \(stored.key)")
        }
        if added.isEmpty && addedReports.isEmpty {
            line("nothing to add: every row of the example is there already")
        } else {
            let committed = try await session.commit()
            line("commit -> committed on shards \(names(committed))")
        }
    }

    // MARK: - 2. get by primary key

    private mutating func getTokyo() async throws {
        guard let id = locations["Tokyo"]?.id else { return }
        step(2, "get WeatherLocation \(id) (Tokyo) by primary key, with its reports")
        guard let tokyo = try await session.get(WeatherLocation.self, id, fresh: true, include: ["reports"]) else {
            fail("get WeatherLocation \(id) found nothing; expected Tokyo")
            return
        }
        line("get WeatherLocation \(id) -> \(Self.describe(tokyo.value)) key \(tokyo.key)")
        line("no shard named, so the identity chooser asked every shard (fresh: read again, not from the identity map)")
        let reports = try tokyo.related.many("reports", as: Report.self)
        line("its reports (include \"reports\", read on \(tokyo.key.shard) only): "
            + (reports.isEmpty ? "none" : reports.map { "\($0.key) \(Self.temperature($0.temperature))" }.joined(separator: ", ")))
        check(tokyo.city == "Tokyo", "get WeatherLocation \(id) is \(tokyo.city), expected Tokyo")
        check(reports.first?.temperature == 80.0, "Tokyo's first report is \(reports.first.map { Self.temperature($0.temperature) } ?? "missing"), expected 80.0")
    }

    // MARK: - 3-5. queries, routed by the execute chooser or pinned to a shard

    private mutating func queryNorthAmerica() async throws {
        step(3, "query WeatherLocation where continent = \"North America\"")
        let result = try await session.query(WeatherLocation.self)
            .where(Column("continent") == "North America" && Column("city").in(Self.cityNames))
            .orderBy("id")
            .fetch()
        printQuery(result, how: "the execute chooser: continent is the shard key")
        check(Set(result.objects.map(\.city)) == ["New York", "Toronto"], "North America is \(result.objects.map(\.city)), expected New York and Toronto")
        check(result.shards == ["north_america"], "the North America query asked \(result.shards), expected north_america only")
    }

    private mutating func queryEuropeAndAsia() async throws {
        step(4, "query WeatherLocation where continent in (\"Europe\", \"Asia\")")
        let result = try await session.query(WeatherLocation.self)
            .where(Column("continent").in(["Europe", "Asia"]) && Column("city").in(Self.cityNames))
            .orderBy("id")
            .fetch()
        printQuery(result, how: "the execute chooser maps each value of the in to its shard")
        check(Set(result.objects.map(\.city)) == ["Tokyo", "London", "Dublin"], "Europe and Asia are \(result.objects.map(\.city)), expected Tokyo, London and Dublin")
        check(Set(result.shards) == ["asia", "europe"] && result.shards.count == 2, "the in query asked \(result.shards), expected asia and europe")
    }

    private mutating func queryPinnedToNorthAmerica() async throws {
        step(5, "query WeatherLocation where city starts with \"T\", pinned to shard north_america (set_shard_id)")
        let result = try await session.query(WeatherLocation.self)
            .where(Column("city").startsWith("T") && Column("city").in(Self.cityNames))
            .orderBy("id")
            .shard("north_america")
            .fetch()
        printQuery(result, how: "shard named in the request: no chooser")
        line("Tokyo starts with T too, but it lives on asia, which was not asked")
        check(result.objects.map(\.city) == ["Toronto"], "the pinned query found \(result.objects.map(\.city)), expected Toronto only")
        check(result.shards == ["north_america"], "the pinned query asked \(result.shards), expected north_america")
    }

    // MARK: - 6. identity keys

    private mutating func identityKeys() async throws {
        step(6, "identity_keys Report: the reports in this session's identity map")
        let keys = try await session.identityKeys(Report.self)
        line("identity_keys Report -> \(keys.count) key\(keys.count == 1 ? "" : "s") (asked no shard: the map lives in the session)")
        for key in keys {
            let city = reportsByCity.first { $0.value.key == key }?.key
            line("  \(key)" + (city.map { "  \($0)'s report" } ?? ""))
        }
        guard let newYork = reportsByCity["New York"], let tokyo = reportsByCity["Tokyo"] else {
            fail("the reports of New York and Tokyo are missing")
            return
        }
        line("New York's report: identity key \(newYork.key), identity token \(newYork.key.token)")
        line("Tokyo's report:    identity key \(tokyo.key), identity token \(tokyo.key.token)")
        if newYork.key.primaryKey == tokyo.key.primaryKey {
            line("the same primary key \(Self.primaryKey(tokyo.key)) on two shards: two objects, told apart by the token (the shard)")
        } else {
            line("primary keys \(Self.primaryKey(newYork.key)) and \(Self.primaryKey(tokyo.key)) (other reports took the first ids of a shard before this demo ran)")
        }
        check(newYork.key.token == "north_america" && tokyo.key.token == "asia",
              "the reports' tokens are \(newYork.key.token) and \(tokyo.key.token), expected north_america and asia")
        check(keys.contains(newYork.key) && keys.contains(tokyo.key), "identity_keys lacks the key of New York's or Tokyo's report")
    }

    // MARK: - Printing and checking

    func step(_ number: Int, _ title: String) {
        print("")
        print("\(number). \(title)")
    }

    func line(_ text: String) {
        print("   " + text)
    }

    private func printQuery(_ result: QueryResult<WeatherLocation>, how: String) {
        line("asked shards \(names(result.shards)) (\(how))")
        for location in result.objects {
            line("-> \(Self.describe(location.value)) key \(location.key)")
        }
        if result.objects.isEmpty { line("-> nothing") }
    }

    func names(_ shards: [String]) -> String {
        shards.isEmpty ? "none" : shards.joined(separator: ", ")
    }

    mutating func check(_ condition: Bool, _ failure: @autoclosure () -> String) {
        if !condition { fail(failure()) }
    }

    mutating func fail(_ failure: String) {
        failures.append(failure)
        line("CHECK FAILED: \(failure)")
    }

    static func continent(of city: String) -> String? {
        cities.first { $0.city == city }?.continent
    }

    static func describe(_ location: WeatherLocation) -> String {
        "\(location.city) (\(location.continent))"
    }

    static func temperature(_ value: Double?) -> String {
        value.map { String(format: "%.1f", $0) } ?? "null"
    }

    static func primaryKey(_ key: IdentityKey) -> String {
        key.primaryKey.map(\.description).joined(separator: ", ")
    }
}
