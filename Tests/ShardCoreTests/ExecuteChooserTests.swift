import Testing
import ShardCore
import ShardProtocol

private func eq(_ column: String, _ value: ShardValue) -> Expression { .compare(.equal, column: column, value) }
private func isIn(_ column: String, _ values: [ShardValue]) -> Expression { .isIn(column: column, values) }
private func t(_ text: String) -> ShardValue { .text(text) }
private func ts(_ text: String) -> ShardValue { ChooserFixtures.timestamp(text) }

/// One row of a routing table: `expected` nil means all shards, not narrowed.
struct RouteCase: Sendable, CustomTestStringConvertible {
    var name: String
    var model: String
    var expression: Expression?
    var expected: [String]?

    init(_ name: String, _ model: String, _ expression: Expression?, _ expected: [String]?) {
        self.name = name
        self.model = model
        self.expression = expression
        self.expected = expected
    }

    var testDescription: String { name }
}

@Suite struct ExecuteChooserTests {
    static let weatherShards = ["north_america", "asia", "europe", "south_america"]
    static let formShards = ["a", "b", "c", "d"]

    private func route(
        _ configuration: Configuration, _ model: String, _ expression: Expression?, explicit: [String]? = nil,
        parents: [ShardValue: String] = [:]
    ) throws(ShardError) -> Routing {
        try ExecuteChooser(configuration: configuration).route(
            model: configuration.model(named: model)!, where: expression, explicitShards: explicit
        ) { _, keys in
            var found: [String] = []
            for key in keys {
                guard let shard = parents[key] else { return nil }
                found.append(shard)
            }
            return found
        }
    }

    private func check(_ c: RouteCase, _ configuration: Configuration, all: [String]) throws {
        let routing = try route(configuration, c.model, c.expression)
        if let expected = c.expected {
            #expect(routing == Routing(shards: expected, narrowed: true), "\(c.name)")
        } else {
            #expect(routing == Routing(shards: all, narrowed: false), "\(c.name)")
        }
    }

    // MARK: map without default (the weather example)

    static let weatherCases: [RouteCase] = [
        .init("no where", "WeatherLocation", nil, nil),
        .init("= mapped", "WeatherLocation", eq("continent", t("Asia")), ["asia"]),
        .init("= unmapped, no default: no shard", "WeatherLocation", eq("continent", t("Antarctica")), []),
        .init("= other case is another value", "WeatherLocation", eq("continent", t("asia")), []),
        .init("in, file order", "WeatherLocation", isIn("continent", [t("South America"), t("Europe"), t("Asia")]), ["asia", "europe", "south_america"]),
        .init("in, repeats", "WeatherLocation", isIn("continent", [t("Europe"), t("Europe")]), ["europe"]),
        .init("in, some unmapped", "WeatherLocation", isIn("continent", [t("Asia"), t("Antarctica")]), ["asia"]),
        .init("in, all unmapped", "WeatherLocation", isIn("continent", [t("Antarctica"), t("Atlantis")]), []),
        .init("in, empty", "WeatherLocation", isIn("continent", []), []),
        .init("in, null member", "WeatherLocation", isIn("continent", [.null, t("Europe")]), ["europe"]),
        .init("other column", "WeatherLocation", eq("city", t("Tokyo")), nil),
        .init("primary key", "WeatherLocation", eq("id", .int(1)), nil),
        .init("!=", "WeatherLocation", .compare(.notEqual, column: "continent", t("Asia")), nil),
        .init("<", "WeatherLocation", .compare(.less, column: "continent", t("Asia")), nil),
        .init("<=", "WeatherLocation", .compare(.lessOrEqual, column: "continent", t("Asia")), nil),
        .init(">", "WeatherLocation", .compare(.greater, column: "continent", t("Asia")), nil),
        .init(">=", "WeatherLocation", .compare(.greaterOrEqual, column: "continent", t("Asia")), nil),
        .init("not_in", "WeatherLocation", .notIn(column: "continent", [t("Asia")]), nil),
        .init("between", "WeatherLocation", .between(column: "continent", t("Asia"), t("Europe")), nil),
        .init("like", "WeatherLocation", .like(column: "continent", pattern: "Asia"), nil),
        .init("starts_with", "WeatherLocation", .startsWith(column: "continent", prefix: "Asia"), nil),
        .init("is_null", "WeatherLocation", .isNull(column: "continent"), nil),
        .init("not_null", "WeatherLocation", .notNull(column: "continent"), nil),
        .init("not =", "WeatherLocation", .not(eq("continent", t("Asia"))), nil),
        .init("not not =", "WeatherLocation", .not(.not(eq("continent", t("Asia")))), nil),
        .init("not in", "WeatherLocation", .not(isIn("continent", [t("Asia"), t("Europe")])), nil),
        .init("and: key and other column", "WeatherLocation", .and([eq("city", t("Tokyo")), eq("continent", t("Asia"))]), ["asia"]),
        .init("and: only other columns", "WeatherLocation", .and([eq("city", t("Tokyo")), .notNull(column: "continent")]), nil),
        .init("and: empty", "WeatherLocation", .and([]), nil),
        .init("and: disjoint values", "WeatherLocation", .and([eq("continent", t("Asia")), eq("continent", t("Europe"))]), []),
        .init("and: overlapping in lists", "WeatherLocation",
              .and([isIn("continent", [t("Asia"), t("Europe")]), isIn("continent", [t("Europe"), t("South America")])]), ["europe"]),
        .init("and: with a not", "WeatherLocation",
              .and([isIn("continent", [t("Asia"), t("Europe")]), .not(eq("continent", t("Europe")))]), ["asia", "europe"]),
        .init("and: with an unconstrained or", "WeatherLocation",
              .and([.or([eq("continent", t("Asia")), eq("city", t("Paris"))]), eq("continent", t("Europe"))]), ["europe"]),
        .init("and: nested", "WeatherLocation",
              .and([.and([eq("continent", t("Asia"))]), .or([isIn("continent", [t("Asia"), t("Europe")])])]), ["asia"]),
        .init("and: an unmapped value empties it", "WeatherLocation",
              .and([eq("continent", t("Antarctica")), eq("city", t("McMurdo"))]), []),
        .init("or: two values", "WeatherLocation", .or([eq("continent", t("Europe")), eq("continent", t("Asia"))]), ["asia", "europe"]),
        .init("or: one unconstrained operand", "WeatherLocation", .or([eq("continent", t("Asia")), eq("city", t("Paris"))]), nil),
        .init("or: a not operand", "WeatherLocation", .or([eq("continent", t("Asia")), .not(eq("continent", t("Asia")))]), nil),
        .init("or: an and without the key", "WeatherLocation", .or([.and([eq("city", t("x"))]), eq("continent", t("Asia"))]), nil),
        .init("or: of ands", "WeatherLocation",
              .or([.and([eq("continent", t("Asia")), eq("city", t("Tokyo"))]), .and([eq("continent", t("Europe")), eq("city", t("Paris"))])]),
              ["asia", "europe"]),
        .init("or: unmapped and mapped", "WeatherLocation", .or([eq("continent", t("Antarctica")), eq("continent", t("Asia"))]), ["asia"]),
        .init("or: all unmapped", "WeatherLocation", .or([eq("continent", t("Antarctica")), isIn("continent", [])]), []),
        .init("or: empty", "WeatherLocation", .or([]), []),
        .init("or inside and inside or", "WeatherLocation",
              .or([.and([.or([eq("continent", t("Asia")), eq("continent", t("Europe"))]), eq("city", t("x"))]), eq("continent", t("South America"))]),
              ["asia", "europe", "south_america"]),
    ]

    @Test(arguments: weatherCases)
    func weatherLocations(_ c: RouteCase) throws {
        try check(c, ChooserFixtures.weather, all: Self.weatherShards)
    }

    // MARK: map with default, hash, ranges, no rule

    static let formCases: [RouteCase] = [
        .init("default: mapped", "Tenant", eq("region", t("eu")), ["b"]),
        .init("default: unmapped goes to the default", "Tenant", eq("region", t("latam")), ["c"]),
        .init("default: several unmapped", "Tenant", isIn("region", [t("latam"), t("mars")]), ["c"]),
        .init("default: mixed", "Tenant", isIn("region", [t("apac"), t("latam"), t("us"), t("eu")]), ["a", "b", "c", "d"]),
        .init("default: two unmapped values cannot both hold", "Tenant", .and([eq("region", t("latam")), eq("region", t("mars"))]), []),
        .init("default: and of in lists", "Tenant", .and([isIn("region", [t("latam"), t("eu")]), isIn("region", [t("latam"), t("us")])]), ["c"]),
        .init("default: primary key is not the shard key", "Tenant", eq("name", t("t1")), nil),
        .init("default: is_null", "Tenant", .isNull(column: "region"), nil),
        .init("hash int: =", "User", eq("id", .int(0)), ["c"]),
        .init("hash int: = 42", "User", eq("id", .int(42)), ["a"]),
        .init("hash int: in", "User", isIn("id", [.int(42), .int(0), .int(1)]), ["a", "c", "d"]),
        .init("hash int: >", "User", .compare(.greater, column: "id", .int(0)), nil),
        .init("hash int: other column", "User", eq("email", t("x@y")), nil),
        .init("hash int: and", "User", .and([eq("id", .int(0)), eq("email", t("x@y"))]), ["c"]),
        .init("hash int: or", "User", .or([eq("id", .int(0)), eq("id", .int(42))]), ["a", "c"]),
        .init("hash text: =", "Tag", eq("label", t("Tokyo")), ["c"]),
        .init("hash text: in", "Tag", isIn("label", [t("Tokyo"), t("Asia"), t("Ünïcødé")]), ["b", "c"]),
        .init("hash text: starts_with", "Tag", .startsWith(column: "label", prefix: "To"), nil),
        .init("int ranges: =", "Order", eq("number", .int(5)), ["a"]),
        .init("int ranges: = lower bound", "Order", eq("number", .int(1000)), ["b"]),
        .init("int ranges: = just below upper bound", "Order", eq("number", .int(1999)), ["b"]),
        .init("int ranges: = upper bound of the last", "Order", eq("number", .int(9000)), []),
        .init("int ranges: in a gap", "Order", eq("number", .int(3000)), []),
        .init("int ranges: in", "Order", isIn("number", [.int(1500), .int(7000), .int(5)]), ["a", "b"]),
        .init("int ranges: in, all outside", "Order", isIn("number", [.int(-1), .int(2000)]), []),
        .init("int ranges: between is a range", "Order", .between(column: "number", .int(0), .int(10)), nil),
        .init("int ranges: < is a range", "Order", .compare(.less, column: "number", .int(1000)), nil),
        .init("int ranges: and of < and =", "Order", .and([.compare(.less, column: "number", .int(1000)), eq("number", .int(1500))]), ["b"]),
        .init("timestamp ranges: =", "Event", eq("at", ts("2025-06-01T12:00:00Z")), ["c"]),
        .init("timestamp ranges: = boundary", "Event", eq("at", ts("2026-01-01T00:00:00Z")), ["d"]),
        .init("timestamp ranges: = boundary with an offset", "Event", eq("at", ts("2026-01-01T01:00:00+02:00")), ["c"]),
        .init("timestamp ranges: in", "Event", isIn("at", [ts("2026-06-01T00:00:00Z"), ts("2025-06-01T00:00:00Z")]), ["c", "d"]),
        .init("timestamp ranges: outside", "Event", eq("at", ts("2030-01-01T00:00:00Z")), []),
        .init("timestamp ranges: >=", "Event", .compare(.greaterOrEqual, column: "at", ts("2026-01-01T00:00:00Z")), nil),
        .init("no rule: no where", "Note", nil, nil),
        .init("no rule: = on a column", "Note", eq("body", t("x")), nil),
        .init("no rule: = on the key", "Note", eq("id", .int(1)), nil),
    ]

    @Test(arguments: formCases)
    func otherRules(_ c: RouteCase) throws {
        try check(c, ChooserFixtures.forms, all: Self.formShards)
    }

    @Test func hashRoutingAgreesWithPlacement() throws {
        let chooser = ShardChooser(configuration: ChooserFixtures.forms)
        let user = ChooserFixtures.model("User")
        for id in Int64(-50)...50 {
            guard case .shard(let placed) = try chooser.place(["id": .int(id), "email": .null], of: user, explicitShard: nil) else {
                Issue.record("not placed on a shard")
                continue
            }
            #expect(try route(ChooserFixtures.forms, "User", eq("id", .int(id))).shards == [placed])
        }
        let many = try route(ChooserFixtures.forms, "User", isIn("id", (0..<100).map { .int($0) }))
        #expect(many == Routing(shards: Self.formShards, narrowed: true))
    }

    // MARK: child models

    static let knownLocations: [ShardValue: String] = [.int(1): "asia", .int(2): "europe", .int(3): "asia"]

    static let reportCases: [RouteCase] = [
        .init("= known parent", "Report", eq("location_id", .int(1)), ["asia"]),
        .init("in known parents", "Report", isIn("location_id", [.int(2), .int(1), .int(3)]), ["asia", "europe"]),
        .init("= unknown parent", "Report", eq("location_id", .int(99)), nil),
        .init("in with one unknown parent", "Report", isIn("location_id", [.int(1), .int(99)]), nil),
        .init("in, empty", "Report", isIn("location_id", []), []),
        .init("in, only null", "Report", isIn("location_id", [.null]), []),
        .init("or of known parents", "Report", .or([eq("location_id", .int(1)), eq("location_id", .int(2))]), ["asia", "europe"]),
        .init("or with an unknown parent", "Report", .or([eq("location_id", .int(1)), eq("location_id", .int(98))]), nil),
        .init("or with another column", "Report", .or([eq("location_id", .int(1)), .compare(.greater, column: "temperature", .real(30))]), nil),
        .init("and with another column", "Report", .and([eq("location_id", .int(2)), .compare(.greater, column: "temperature", .real(30))]), ["europe"]),
        .init("and intersects keys first", "Report", .and([isIn("location_id", [.int(1), .int(99)]), eq("location_id", .int(1))]), ["asia"]),
        .init("and of disjoint keys", "Report", .and([eq("location_id", .int(1)), eq("location_id", .int(2))]), []),
        .init("not", "Report", .not(eq("location_id", .int(1))), nil),
        .init("!=", "Report", .compare(.notEqual, column: "location_id", .int(1)), nil),
        .init("between", "Report", .between(column: "location_id", .int(1), .int(2)), nil),
        .init("own primary key", "Report", eq("id", .int(1)), nil),
        .init("no where", "Report", nil, nil),
    ]

    @Test(arguments: reportCases)
    func reports(_ c: RouteCase) throws {
        let routing = try route(ChooserFixtures.weather, c.model, c.expression, parents: Self.knownLocations)
        if let expected = c.expected {
            #expect(routing == Routing(shards: expected, narrowed: true))
        } else {
            #expect(routing == Routing(shards: Self.weatherShards, narrowed: false))
        }
    }

    @Test func parentShardsGetsTheParentModelAndDistinctNonNullKeys() throws {
        var calls: [(String, [ShardValue])] = []
        let configuration = ChooserFixtures.weather
        let routing = try ExecuteChooser(configuration: configuration).route(
            model: configuration.model(named: "Report")!,
            where: .or([isIn("location_id", [.int(3), .null, .int(1)]), eq("location_id", .int(3)), eq("location_id", .int(2))])
        ) { parent, keys in
            calls.append((parent, keys))
            return ["europe", "asia", "asia", "no_such_shard"]
        }
        #expect(routing == Routing(shards: ["asia", "europe"], narrowed: true))
        #expect(calls.count == 1)
        #expect(calls.first?.0 == "WeatherLocation")
        #expect(calls.first?.1 == [.int(3), .int(1), .int(2)])

        calls = []
        _ = try ExecuteChooser(configuration: configuration).route(
            model: configuration.model(named: "Report")!, where: isIn("location_id", [])
        ) { parent, keys in
            calls.append((parent, keys))
            return []
        }
        #expect(calls.isEmpty)
        // Without a parentShards, nothing is known: all shards.
        let unknown = try ExecuteChooser(configuration: configuration).route(
            model: configuration.model(named: "Report")!, where: eq("location_id", .int(1)))
        #expect(unknown == Routing(shards: Self.weatherShards, narrowed: false))
    }

    /// A parent with shard-local keys may have namesakes on other shards: it never narrows.
    @Test func parentsWithoutUniqueKeysDoNotNarrow() throws {
        var called = false
        let configuration = ChooserFixtures.forms
        let chooser = ExecuteChooser(configuration: configuration)
        #expect(chooser.uniqueKeyModels == ["User", "Order", "Event", "Note"])
        let routing = try chooser.route(model: configuration.model(named: "Line")!, where: eq("parent_id", .int(1))) { _, _ in
            called = true
            return ["a"]
        }
        #expect(routing == Routing(shards: Self.formShards, narrowed: false))
        #expect(!called)
        let empty = try chooser.route(model: configuration.model(named: "Line")!, where: isIn("parent_id", [])) { _, _ in ["a"] }
        #expect(empty == Routing(shards: [], narrowed: true))
        // The same parent made unique by the caller does narrow.
        let unique = ExecuteChooser(shards: ShardOrder(configuration), uniqueKeyModels: ["Line_Parent"])
        let narrowed = try unique.route(model: configuration.model(named: "Line")!, where: eq("parent_id", .int(1))) { _, _ in ["c"] }
        #expect(narrowed == Routing(shards: ["c"], narrowed: true))
    }

    // MARK: explicit shards

    @Test func explicitShardsOverrideTheWhere() throws {
        let weather = ChooserFixtures.weather
        #expect(try route(weather, "WeatherLocation", eq("continent", t("Asia")), explicit: ["europe"])
                == Routing(shards: ["europe"], narrowed: true))
        #expect(try route(weather, "WeatherLocation", nil, explicit: ["south_america", "asia", "asia"])
                == Routing(shards: ["asia", "south_america"], narrowed: true))
        #expect(try route(weather, "WeatherLocation", eq("continent", t("Antarctica")), explicit: ["asia"])
                == Routing(shards: ["asia"], narrowed: true))
        #expect(try route(weather, "Report", eq("location_id", .int(99)), explicit: ["north_america"])
                == Routing(shards: ["north_america"], narrowed: true))
        #expect(try route(ChooserFixtures.forms, "Note", nil, explicit: ["d", "b"]) == Routing(shards: ["b", "d"], narrowed: true))
        #expect(try route(weather, "WeatherLocation", nil, explicit: []) == Routing(shards: [], narrowed: true))
        #expect(try route(weather, "WeatherLocation", nil, explicit: Self.weatherShards.reversed())
                == Routing(shards: Self.weatherShards, narrowed: true))
    }

    @Test func unknownExplicitShardsAreRefused() {
        for explicit in [["mars"], ["asia", "mars"], ["Asia"], [""]] {
            do throws(ShardError) {
                let routing = try route(ChooserFixtures.weather, "WeatherLocation", eq("continent", t("Asia")), explicit: explicit)
                Issue.record("expected unknown_shard for \(explicit), got \(routing)")
            } catch {
                #expect(error.code == .unknownShard)
                #expect(error.message.contains("(shards: north_america, asia, europe, south_america)"))
            }
        }
    }
}

@Suite struct IdentityChooserTests {
    let chooser = IdentityChooser(configuration: ChooserFixtures.weather)

    @Test func everyShardInFileOrderWithoutAShard() throws {
        #expect(try chooser.shards(explicitShard: nil) == ["north_america", "asia", "europe", "south_america"])
        #expect(try IdentityChooser(configuration: ChooserFixtures.forms).shards(explicitShard: nil) == ["a", "b", "c", "d"])
    }

    @Test func theRequestsShardAlone() throws {
        #expect(try chooser.shards(explicitShard: "europe") == ["europe"])
    }

    @Test func anUnknownShardIsRefused() {
        do throws(ShardError) {
            _ = try chooser.shards(explicitShard: "mars")
            Issue.record("expected unknown_shard")
        } catch {
            #expect(error.code == .unknownShard)
            #expect(error.message == "\"mars\" is not a shard (shards: north_america, asia, europe, south_america); give one of them")
        }
    }
}
