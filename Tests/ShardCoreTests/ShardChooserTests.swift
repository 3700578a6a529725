import Testing
import ShardCore
import ShardProtocol

/// Configurations shared by the chooser tests: the weather example, and one with every other
/// form of `shard_by` (map with a default, hash on int and text, int and timestamp ranges, no
/// rule, a child of a `shard_local` parent).
enum ChooserFixtures {
    static let weather = try! ConfigLoader.parse(
        DefaultConfiguration.text, file: "shards.conf", baseDirectory: "/srv", environment: [:])

    static let forms = try! ConfigLoader.parse(
        """
        [shards.a]
        url = "sqlite:a.db"
        [shards.b]
        url = "sqlite:b.db"
        [shards.c]
        url = "sqlite:c.db"
        [shards.d]
        url = "sqlite:d.db"

        [models.Tenant]
        id = "client"
        primary_key = ["name"]
        shard_by = { column = "region", map = { "eu" = "b", "us" = "a", "apac" = "d" }, default = "c" }
        [models.Tenant.columns]
        name = "text"
        region = "text"

        [models.User]
        id = "sequence"
        shard_by = { column = "id", hash = true }
        [models.User.columns]
        id = "int"
        email = "text"

        [models.Tag]
        id = "client"
        primary_key = ["label"]
        shard_by = { column = "label", hash = true }
        [models.Tag.columns]
        label = "text"

        [models.Order]
        id = "sequence"
        shard_by = { column = "number", ranges = [[0, 1000, "a"], [1000, 2000, "b"], [5000, 9000, "a"]] }
        [models.Order.columns]
        id = "int"
        number = "int"

        [models.Event]
        id = "sequence"
        shard_by = { column = "at", ranges = [[2025-01-01T00:00:00Z, 2026-01-01T00:00:00Z, "c"], ["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", "d"]] }
        [models.Event.columns]
        id = "int"
        at = "timestamp"

        [models.Note]
        id = "sequence"
        [models.Note.columns]
        id = "int"
        body = "text"

        [models.Line]
        id = "shard_local"
        shard_by = { parent = "Line_Parent", via = "parent_id" }
        [models.Line.columns]
        id = "int"
        parent_id = "int"

        [models.Line_Parent]
        id = "shard_local"
        shard_by = { column = "kind", map = { "x" = "a" }, default = "b" }
        [models.Line_Parent.columns]
        id = "int"
        kind = "text"
        """,
        file: "shards.conf", baseDirectory: "/srv", environment: [:])

    static func model(_ name: String, in configuration: Configuration = forms) -> Model {
        configuration.model(named: name)!
    }

    static func timestamp(_ text: String) -> ShardValue {
        .timestamp(try! Timestamp(rfc3339: text))
    }
}

@Suite struct ShardChooserTests {
    let weather = ShardChooser(configuration: ChooserFixtures.weather)
    let forms = ShardChooser(configuration: ChooserFixtures.forms)
    let location = ChooserFixtures.model("WeatherLocation", in: ChooserFixtures.weather)
    let report = ChooserFixtures.model("Report", in: ChooserFixtures.weather)

    private func placement(_ model: String, _ row: [String: ShardValue], shard: String? = nil) throws(ShardError) -> Placement {
        let model = ChooserFixtures.model(model)
        return try forms.place(try! model.newRow(row), of: model, explicitShard: shard)
    }

    private func refusal(
        _ chooser: ShardChooser, _ model: Model, _ row: [String: ShardValue], shard: String? = nil
    ) -> ShardError? {
        do throws(ShardError) {
            let placed = try chooser.place(row, of: model, explicitShard: shard)
            Issue.record("expected a refusal, got \(placed)")
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("Asia", "asia"), ("Europe", "europe"), ("North America", "north_america"), ("South America", "south_america"),
    ])
    func weatherLocationsFollowTheMap(continent: String, shard: String) throws {
        let row = try location.newRow(["continent": .text(continent), "city": .text("X")])
        #expect(try weather.place(row, of: location, explicitShard: nil) == .shard(shard))
    }

    @Test func anExplicitShardOverridesTheRule() throws {
        let row = try location.newRow(["continent": .text("Asia"), "city": .text("Paris")])
        #expect(try weather.place(row, of: location, explicitShard: "europe") == .shard("europe"))
        // Even a row the rule cannot place goes where the request says.
        let unmapped = try location.newRow(["continent": .text("Antarctica"), "city": .text("McMurdo")])
        #expect(try weather.place(unmapped, of: location, explicitShard: "asia") == .shard("asia"))
        let child = try report.newRow(["location_id": .int(3)])
        #expect(try weather.place(child, of: report, explicitShard: "south_america") == .shard("south_america"))
        #expect(try placement("Note", ["body": .text("hi")], shard: "d") == .shard("d"))
    }

    @Test func anUnknownExplicitShardIsRefusedWithTheShardList() throws {
        let row = try location.newRow(["continent": .text("Asia"), "city": .text("Tokyo")])
        let error = refusal(weather, location, row, shard: "antarctica")
        #expect(error?.code == .unknownShard)
        #expect(error?.message == "\"antarctica\" is not a shard (shards: north_america, asia, europe, south_america); give one of them")
    }

    @Test func anUnmappedValueWithoutDefaultIsRefused() throws {
        let row = try location.newRow(["continent": .text("Antarctica"), "city": .text("McMurdo")])
        let error = refusal(weather, location, row)
        #expect(error?.code == .noShard)
        #expect(error?.message == "WeatherLocation.continent \"Antarctica\" is not in models.WeatherLocation.shard_by.map (values: \"Asia\", \"Europe\", \"North America\", \"South America\"), which has no default: give shard, or add the value or a default to models.WeatherLocation.shard_by")
        // Text matches by bytes: case and canonical equivalents are other values.
        #expect(refusal(weather, location, ["continent": .text("asia"), "city": .text("x")])?.code == .noShard)
    }

    @Test func aMapDefaultTakesUnmappedValues() throws {
        #expect(try placement("Tenant", ["name": .text("t1"), "region": .text("eu")]) == .shard("b"))
        #expect(try placement("Tenant", ["name": .text("t2"), "region": .text("us")]) == .shard("a"))
        #expect(try placement("Tenant", ["name": .text("t3"), "region": .text("latam")]) == .shard("c"))
        #expect(try placement("Tenant", ["name": .text("t4"), "region": .text("EU")]) == .shard("c"))
    }

    @Test func aNullOrMissingKeyIsRefusedEvenWithADefault() throws {
        let tenant = ChooserFixtures.model("Tenant")
        let null = refusal(forms, tenant, try tenant.newRow(["name": .text("t")]))
        #expect(null?.code == .noShard)
        #expect(null?.message == "Tenant.region is null, and models.Tenant.shard_by places rows by it: give region a value, or give shard")
        let missing = refusal(forms, tenant, ["name": .text("t")])
        #expect(missing?.message == "Tenant.region is missing, and models.Tenant.shard_by places rows by it: give region a value, or give shard")
        // The row's key is still to be made: the caller assigns the sequence id first.
        let user = ChooserFixtures.model("User")
        #expect(refusal(forms, user, try user.newRow(["email": .text("x@y")]))?.code == .noShard)
    }

    @Test func hashPlacesByShardHashOverTheShardsInFileOrder() throws {
        let names = ["a", "b", "c", "d"]
        for id in [0, 1, 42, 1000, -1] as [Int64] {
            let expected = names[ShardHash.shardIndex(of: .int(id), shardCount: 4)!]
            #expect(try forms.place(["id": .int(id), "email": .null], of: ChooserFixtures.model("User"), explicitShard: nil) == .shard(expected))
        }
        // Pinned (ShardHashTests): int 0 -> 2, 42 -> 0; "Tokyo" -> 2, "Asia" -> 1.
        #expect(try forms.place(["id": .int(0), "email": .null], of: ChooserFixtures.model("User"), explicitShard: nil) == .shard("c"))
        #expect(try forms.place(["id": .int(42), "email": .null], of: ChooserFixtures.model("User"), explicitShard: nil) == .shard("a"))
        #expect(try placement("Tag", ["label": .text("Tokyo")]) == .shard("c"))
        #expect(try placement("Tag", ["label": .text("Asia")]) == .shard("b"))
    }

    @Test(arguments: [
        (Int64(0), "a"), (999, "a"), (1000, "b"), (1999, "b"), (5000, "a"), (8999, "a"),
    ])
    func intRangesAreHalfOpen(number: Int64, shard: String) throws {
        #expect(try placement("Order", ["number": .int(number)]) == .shard(shard))
    }

    @Test(arguments: [Int64(-1), 2000, 4999, 9000, .max, .min])
    func valuesOutsideEveryRangeAreRefused(number: Int64) throws {
        let order = ChooserFixtures.model("Order")
        let error = refusal(forms, order, try order.newRow(["number": .int(number)]))
        #expect(error?.code == .noShard)
        #expect(error?.message == "Order.number \(number) is outside every range of models.Order.shard_by.ranges ([0, 1000) -> a, [1000, 2000) -> b, [5000, 9000) -> a): give shard, or add a range that holds it")
    }

    @Test func timestampRangesAreHalfOpen() throws {
        let t = ChooserFixtures.timestamp
        #expect(try placement("Event", ["at": t("2025-01-01T00:00:00Z")]) == .shard("c"))
        #expect(try placement("Event", ["at": t("2025-12-31T23:59:59.999999Z")]) == .shard("c"))
        #expect(try placement("Event", ["at": t("2026-01-01T00:00:00Z")]) == .shard("d"))
        #expect(try placement("Event", ["at": t("2026-01-01T01:00:00+02:00")]) == .shard("c"))
        let event = ChooserFixtures.model("Event")
        let late = refusal(forms, event, ["at": t("2027-01-01T00:00:00Z")])
        #expect(late?.code == .noShard)
        #expect(late?.message.contains("[2025-01-01T00:00:00Z, 2026-01-01T00:00:00Z) -> c") == true)
        #expect(refusal(forms, event, ["at": t("2024-12-31T23:59:59.999999Z")])?.code == .noShard)
    }

    @Test func aModelWithoutShardByNeedsAnExplicitShard() throws {
        let note = ChooserFixtures.model("Note")
        let error = refusal(forms, note, try note.newRow(["body": .text("hi")]))
        #expect(error?.code == .noShard)
        #expect(error?.message == "Note has no shard_by, so its rows go only where the request says: give shard (shards: a, b, c, d), or add shard_by to models.Note")
    }

    @Test func childRowsGoWithTheirParent() throws {
        let row = try report.newRow(["location_id": .int(7), "temperature": .real(21.5)])
        #expect(try weather.place(row, of: report, explicitShard: nil) == .parent(model: "WeatherLocation", key: .int(7)))
        #expect(try placement("Line", ["parent_id": .int(3)]) == .parent(model: "Line_Parent", key: .int(3)))
        let missing = refusal(weather, report, ["temperature": .real(1)])
        #expect(missing?.code == .noShard)
        #expect(missing?.message == "Report.location_id is missing, and a Report lives with its WeatherLocation (models.Report.shard_by): give location_id, or give shard")
        let line = ChooserFixtures.model("Line")
        #expect(refusal(forms, line, try line.newRow([:]))?.message.contains("Line.parent_id is null") == true)
    }

    @Test func aParentThatIsNowhereIsNoShard() {
        let error = ShardChooser.parentNotFound(model: report, parentModel: "WeatherLocation", key: .int(7))
        #expect(error.code == .noShard)
        #expect(error.message == "Report.location_id 7 names no WeatherLocation in this session or on any shard: add the WeatherLocation first, or give shard")
    }

    @Test func longMapsAreAbbreviatedInMessages() throws {
        let entries = (0..<15).map { "\"k\($0)\" = \"a\"" }.joined(separator: ", ")
        let configuration = try ConfigLoader.parse(
            """
            [shards.a]
            url = "sqlite:a.db"
            [models.M]
            shard_by = { column = "k", map = { \(entries) } }
            [models.M.columns]
            id = "int"
            k = "text"
            """,
            file: "shards.conf", baseDirectory: "/srv", environment: [:])
        let model = configuration.model(named: "M")!
        let error = refusal(ShardChooser(configuration: configuration), model, ["id": .int(1), "k": .text("zz")])
        #expect(error?.message.contains("(values: \"k0\", \"k1\", \"k10\", \"k11\", \"k12\", \"k13\", \"k14\", \"k2\", \"k3\", \"k4\", ...)") == true)
    }

    @Test func shardOrderChecksAndSortsRequestedNames() throws {
        let order = ShardOrder(ChooserFixtures.forms)
        #expect(order.names == ["a", "b", "c", "d"])
        #expect(try order.checked(["d", "a", "d", "b"]) == ["a", "b", "d"])
        #expect(try order.checked([]) == [])
        #expect(order.inFileOrder(["c", "zz", "a", "c"]) == ["a", "c"])
        #expect(order.position(of: "c") == 2)
        #expect(order.position(of: "zz") == nil)
        do throws(ShardError) {
            _ = try order.checked(["a", "x", "y"])
            Issue.record("expected unknown_shard")
        } catch {
            #expect(error.code == .unknownShard)
            #expect(error.message.hasPrefix("\"x\" is not a shard (shards: a, b, c, d)"))
        }
    }
}
