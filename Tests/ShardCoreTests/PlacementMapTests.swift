import Testing
@testable import ShardCore
import ShardProtocol

/// The durable placement (protocol.md 13) as a pure value: derived at a first start,
/// reconciled with later edits of shards.conf without moving a row.
@Suite struct PlacementMapTests {
    static func configuration(shards: [String] = ["north_america", "asia", "europe", "south_america"], drain: [String] = [],
                              europe: String = "europe", more: String = "", buckets: String = "", stationColumn: String = "code") throws -> Configuration {
        var text = ""
        for shard in shards {
            text += "[shards.\(shard)]\nurl = \"sqlite:\(shard).db\"\n" + (drain.contains(shard) ? "drain = true\n" : "")
        }
        text += """

            [models.WeatherLocation]
            id = "sequence"
            shard_by = { column = "continent", map = { "North America" = "north_america", "Asia" = "asia", "Europe" = "\(europe)"\(more) } }
            [models.WeatherLocation.columns]
            id = "int"
            continent = "text"
            [models.Report]
            id = "shard_local"
            shard_by = { parent = "WeatherLocation", via = "location_id" }
            [models.Report.columns]
            id = "int"
            location_id = "int"
            [models.Station]
            id = "client"
            primary_key = ["code"]
            shard_by = { column = "\(stationColumn)", hash = true\(buckets) }
            [models.Station.columns]
            code = "text"
            name = "text"

            """
        return try ConfigLoader.parse(text, file: "shards.conf", baseDirectory: "/srv", environment: [:])
    }

    static func owner(_ configuration: Configuration, _ model: String, _ value: ShardValue) -> String? {
        configuration.model(named: model)?.shardBy?.shard(for: value, shards: ShardOrder(configuration))
    }

    @Test func aFirstStartIsShardsConfExactlyAndHashIsHashModShards() throws {
        let config = try Self.configuration()
        let first = PlacementMap.reconcile(stored: nil, with: config)
        #expect(first.changed && first.problems.isEmpty)
        #expect(first.placement.groups.map(\.group) == ["WeatherLocation", "Station"])
        guard case .hash(_, let buckets)? = first.placement.rule(of: "Station") else { Issue.record("no hash"); return }
        #expect(buckets.count == 4096)
        // Bucket b on shard b mod 4: the placement of hash mod 4, so no row of an existing
        // deployment changes shard.
        for code in ["OSL", "NRT", "JFK", "GRU", "CDG", ""] {
            let index = ShardHash.shardIndex(of: .text(code), shardCount: 4)!
            #expect(Self.owner(first.placement.routing(config), "Station", .text(code)) == config.shards[index].name)
        }
    }

    @Test func aShardAddedToShardsConfOwnsNothingUntilARebalance() throws {
        let four = try Self.configuration()
        let stored = PlacementMap(configuration: four)
        let five = try Self.configuration(shards: ["north_america", "asia", "europe", "south_america", "pg"])
        let reconciled = PlacementMap.reconcile(stored: stored, with: five)
        #expect(reconciled.problems.isEmpty && !reconciled.changed)
        let routed = reconciled.placement.routing(five)
        for code in (0..<200).map({ "S\($0)" }) {
            #expect(Self.owner(routed, "Station", .text(code)) == Self.owner(four, "Station", .text(code)), "\(code)")
            #expect(Self.owner(routed, "Station", .text(code)) != "pg")
        }
        // Without the placement, the new file would re-route most stations.
        let moved = (0..<200).filter { Self.owner(five, "Station", .text("S\($0)")) != Self.owner(four, "Station", .text("S\($0)")) }
        #expect(moved.count > 100)
        // differs: every shard is far from an even spread over five, the new one most of all.
        let differs = reconciled.placement.differences(from: five)
        #expect(differs.contains(.buckets(group: "Station", shard: "pg", buckets: 0, wanted: 819)))
        #expect(differs.contains(.buckets(group: "Station", shard: "asia", buckets: 1024, wanted: 819)))
    }

    @Test func aMapValuePointedElsewhereStaysUntilMovedAndANewValueGoesWhereTheFileSays() throws {
        let stored = PlacementMap(configuration: try Self.configuration())
        // Europe pointed elsewhere, and a value the placement has not seen yet.
        let edited = try Self.configuration(europe: "south_america", more: #", "South America" = "south_america""#)
        let reconciled = PlacementMap.reconcile(stored: stored, with: edited)
        #expect(reconciled.problems.isEmpty && reconciled.changed)
        let routed = reconciled.placement.routing(edited)
        #expect(Self.owner(routed, "WeatherLocation", .text("Europe")) == "europe")
        #expect(Self.owner(routed, "WeatherLocation", .text("South America")) == "south_america")
        #expect(reconciled.placement.differences(from: edited) == [.unit(group: "WeatherLocation", unit: "Europe", now: "europe", wanted: "south_america")])
    }

    @Test func changesThatWouldMoveOrStrandRowsAreProblems() throws {
        let stored = PlacementMap(configuration: try Self.configuration(buckets: ", buckets = 64"))
        let buckets = PlacementMap.reconcile(stored: stored, with: try Self.configuration(buckets: ", buckets = 128"))
        #expect(buckets.problems == ["models.Station.shard_by.buckets: 128, and the rows are placed in 64 buckets, a number that can never change: set buckets = 64 or leave it out"])
        // Leaving buckets out (the default, 1024 per shard) keeps the placed 64.
        #expect(PlacementMap.reconcile(stored: stored, with: try Self.configuration()).problems.isEmpty)
        let column = PlacementMap.reconcile(stored: stored, with: try Self.configuration(stationColumn: "name"))
        #expect(column.problems == ["models.Station.shard_by: the rows are placed by a hash of code into 64 buckets, and shards.conf now says by a hash of name into 4096 buckets; shardd cannot re-place rows under another rule: set it back"])
        // A shard that holds units is gone from the file (the map no longer names it either).
        let gone = PlacementMap.reconcile(stored: stored, with: try Self.configuration(shards: ["north_america", "asia", "europe", "elsewhere"]))
        #expect(gone.problems == ["models.Station.shard_by: bucket 3 is placed on shard south_america, which shards.conf no longer has: add [shards.south_america] back (its rows are there)"])
    }

    @Test func aDrainedShardWantsNothingAndNoMapValueMayNameIt() throws {
        let drained = try Self.configuration(shards: ["north_america", "asia", "europe", "south_america", "pg"], drain: ["south_america"])
        let placement = PlacementMap(configuration: try Self.configuration())
        let differs = placement.differences(from: drained)
        #expect(differs.contains(.buckets(group: "Station", shard: "south_america", buckets: 1024, wanted: 0)))
        #expect(differs.contains(.buckets(group: "Station", shard: "pg", buckets: 0, wanted: 1024)))
        let error = #expect(throws: ConfigError.self) { try Self.configuration(drain: ["europe"]) }
        #expect(error?.messages == ["models.WeatherLocation.shard_by.map.Europe: \"europe\" has drain = true, so no map value, default or range may name it: point this at a shard that stays (rebalance then moves the rows)"])
    }

    @Test func theFileRoundTrips() throws {
        let config = try Self.configuration(buckets: ", buckets = 8")
        let placement = PlacementMap(version: 3, groups: PlacementMap(configuration: config).groups)
        let text = placement.json(types: PlacementMap.keyTypes(config)).serialized
        #expect(try PlacementMap(json: try JSONValue.parse(text)) == placement)
        #expect(text.contains(#""buckets":["north_america","asia","europe","south_america","north_america","asia","europe","south_america"]"#))
        #expect(throws: PlacementMap.FormatError.self) { try PlacementMap(json: try JSONValue.parse(#"{"version":1,"groups":[{"group":"X","rule":"hash","column":"c","type":"text","buckets":[]}]}"#)) }
    }

    // MARK: rebalance's plan

    /// Four shards' buckets over five: every shard within one bucket of the mean, and no
    /// bucket moved that did not have to.
    @Test func aRebalanceSpreadsBucketsEvenlyMovingTheFewest() throws {
        let placement = PlacementMap(configuration: try Self.configuration())
        let five = try Self.configuration(shards: ["north_america", "asia", "europe", "south_america", "pg"])
        let plan = RebalancePlan(placement: placement, configuration: five)
        #expect(plan.moves.allSatisfy { $0.group == "Station" && $0.to == "pg" })
        // 4096 over 5: 820, 819, 819, 819, 819; pg gets 819 or 820, all from the others.
        #expect(plan.moves.count == 819 || plan.moves.count == 820)
        guard case .hash(_, var buckets)? = placement.rule(of: "Station") else { Issue.record("no hash"); return }
        for move in plan.moves {
            guard case .bucket(let bucket) = move.unit else { Issue.record("not a bucket"); continue }
            #expect(buckets.owners[bucket] == move.from)
            buckets.owners[bucket] = move.to
        }
        let counts = buckets.countsByOwner
        #expect(five.shards.allSatisfy { abs((counts[$0.name] ?? 0) - 4096 / 5) <= 1 }, "\(counts)")
        // Applied, the plan is done: nothing more to move.
        var moved = placement
        moved.groups = moved.groups.map { $0.group == "Station" ? ($0.group, .hash(column: "code", buckets: buckets)) : $0 }
        #expect(RebalancePlan(placement: moved, configuration: five).moves == [])
    }

    @Test func aDrainedShardIsEmptiedAndAMapValueGoesWhereTheFileSays() throws {
        let placement = PlacementMap(configuration: try Self.configuration())
        let drained = try Self.configuration(drain: ["south_america"], europe: "asia")
        let plan = RebalancePlan(placement: placement, configuration: drained)
        #expect(plan.moves.first == RebalancePlan.Move(group: "WeatherLocation", unit: .value(.text("Europe")), from: "europe", to: "asia"))
        let buckets = plan.moves.filter { $0.group == "Station" }
        #expect(buckets.count == 1024 && buckets.allSatisfy { $0.from == "south_america" && $0.to != "south_america" })
        let received = Dictionary(grouping: buckets, by: \.to).mapValues(\.count)
        #expect(received.values.allSatisfy { $0 == 341 || $0 == 342 }, "\(received)")
        #expect(RebalancePlan(placement: placement, configuration: try Self.configuration()).moves == [])
    }

    // MARK: ranges, and other key types in the file

    static func ranged(_ ranges: String) throws -> Configuration {
        try ConfigLoader.parse("""
            [shards.a]
            url = "sqlite:a.db"
            [shards.b]
            url = "sqlite:b.db"
            [models.Event]
            id = "client"
            shard_by = { column = "at", ranges = \(ranges) }
            [models.Event.columns]
            id = "int"
            at = "timestamp"
            [models.Tag]
            id = "client"
            shard_by = { column = "n", map = { "1" = "a", "2" = "b" } }
            [models.Tag.columns]
            id = "int"
            n = "int"

            """, file: "shards.conf", baseDirectory: "/srv", environment: [:])
    }

    @Test func rangesAreAddedWhenNewAndRefusedWhenCutAnew() throws {
        let stored = PlacementMap(configuration: try Self.ranged(#"[[2020-01-01T00:00:00Z, 2021-01-01T00:00:00Z, "a"]]"#))
        // A new range beside the placed one is added; the placed one pointed at b stays on a.
        let grown = try Self.ranged(#"[[2020-01-01T00:00:00Z, 2021-01-01T00:00:00Z, "b"], [2021-01-01T00:00:00Z, 2022-01-01T00:00:00Z, "b"]]"#)
        let reconciled = PlacementMap.reconcile(stored: stored, with: grown)
        #expect(reconciled.problems.isEmpty && reconciled.changed)
        let routed = reconciled.placement.routing(grown)
        #expect(Self.owner(routed, "Event", .timestamp(try Timestamp(rfc3339: "2020-06-01T00:00:00Z"))) == "a")
        #expect(Self.owner(routed, "Event", .timestamp(try Timestamp(rfc3339: "2021-06-01T00:00:00Z"))) == "b")
        #expect(reconciled.placement.differences(from: grown) == [.unit(group: "Event", unit: "[2020-01-01T00:00:00Z, 2021-01-01T00:00:00Z)", now: "a", wanted: "b")])
        let plan = RebalancePlan(placement: reconciled.placement, configuration: grown)
        #expect(plan.moves.map(\.to) == ["b"] && plan.moves.map(\.from) == ["a"])
        // A boundary moved inside the placed range would re-place rows.
        let cut = PlacementMap.reconcile(stored: stored, with: try Self.ranged(#"[[2020-01-01T00:00:00Z, 2020-07-01T00:00:00Z, "a"]]"#))
        #expect(cut.problems.count == 1 && cut.problems[0].hasPrefix("models.Event.shard_by.ranges[0]: [2020-01-01T00:00:00Z, 2020-07-01T00:00:00Z) overlaps the placed range"), "\(cut.problems)")
    }

    @Test func timestampAndIntUnitsRoundTripThroughTheFile() throws {
        let config = try Self.ranged(#"[[2020-01-01T00:00:00.250Z, 2021-01-01T00:00:00Z, "a"]]"#)
        let placement = PlacementMap(configuration: config)
        let text = placement.json(types: PlacementMap.keyTypes(config)).serialized
        let back = try PlacementMap(json: try JSONValue.parse(text))
        #expect(back == placement, "\(text)")
        #expect(Self.owner(back.routing(config), "Tag", .int(2)) == "b")
    }
}

