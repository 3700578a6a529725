import Testing
@testable import ShardCore
import ShardProtocol

/// Move jobs (protocol.md 13) as pure values: what a restart does in each phase, how a plan
/// becomes steps, the stored form, and the placement after a switch.
@Suite struct MoveJobTests {
    static let started = Timestamp(microseconds: 1_700_000_000_000_000)

    static func step(_ phase: MoveJob.Phase = .pending, units: [PlacementUnit] = [.value(.text("Asia"))]) -> MoveJob.Step {
        MoveJob.Step(group: "WeatherLocation", units: units, from: "asia", to: "europe", rows: 7, phase: phase)
    }

    @Test func aRestartRunsUndoesOrCleansUpByPhase() {
        let table: [(MoveJob.Phase, MoveJob.Resumption)] = [
            (.pending, .run), (.copying, .undoThenRun), (.switched, .cleanUp), (.done, .nothing),
        ]
        for (phase, expected) in table {
            #expect(Self.step(phase).resumption == expected, "\(phase)")
        }
    }

    @Test func aJobIsDoneWhenEveryStepIsAndFailedWithItsReason() {
        var job = MoveJob(id: 3, kind: .rebalance, steps: [Self.step(), Self.step(units: [.bucket(1), .bucket(5)])], startedAt: Self.started)
        #expect(job.current == 0 && job.moves == 3 && job.movesDone == 0 && job.rowsTotal == 14)
        job.advance(0, to: .copying, at: Self.started)
        job.advance(0, to: .done, at: Self.started)
        #expect(job.state == .running && job.current == 1 && job.movesDone == 1 && job.finishedAt == nil)
        var failed = job
        failed.fail(1, because: "the target refused", at: Self.started)
        #expect(failed.state == .failed && failed.error == "the target refused" && failed.current == nil)
        #expect(failed.steps[1].phase == .pending && failed.finishedAt == Self.started)
        job.advance(1, to: .done, at: Self.started)
        #expect(job.state == .done && job.movesDone == 3 && job.current == nil && job.finishedAt == Self.started)
    }

    @Test func bucketsOfOneRouteShareAStepWhereverTheyAreInThePlan() {
        var moves: [(move: RebalancePlan.Move, rows: Int)] = []
        for bucket in 0..<600 {
            let from = ["asia", "europe"][bucket % 2]
            moves.append((RebalancePlan.Move(group: "Station", unit: .bucket(bucket), from: from, to: "fifth"), 1))
        }
        moves.insert((RebalancePlan.Move(group: "WeatherLocation", unit: .value(.text("Asia")), from: "asia", to: "europe"), 9), at: 3)
        let steps = MoveJob.steps(of: moves)
        // One map value alone; 300 buckets per source in steps of at most 256.
        #expect(steps.map(\.units.count).sorted() == [1, 44, 44, 256, 256])
        #expect(steps.reduce(0) { $0 + $1.units.count } == 601 && steps.reduce(0) { $0 + $1.rows } == 609)
        #expect(steps.allSatisfy { step in step.group == "WeatherLocation" || step.units.allSatisfy { unit in
            guard case .bucket(let b) = unit else { return false }
            return ["asia", "europe"][b % 2] == step.from
        } })
        #expect(steps[0].from == "asia" && steps[0].units.first == .bucket(0))
    }

    @Test func theStoredFormReadsBackExactly() throws {
        var job = MoveJob(id: 12, kind: .move, steps: [
            Self.step(.done, units: [.value(.text("Asia"))]),
            Self.step(.switched, units: [.range(lower: .timestamp(Self.started), upper: .int(9))]),
            Self.step(.copying, units: [.bucket(0), .bucket(4095)]),
            Self.step(units: [.key([.int(7), .text("b")])]),
        ], startedAt: Self.started)
        job.rowsCopied = 21
        job.steps[0].pauseMs = 14
        job.error = "why"
        job.finishedAt = Timestamp(microseconds: 1_700_000_000_000_001)
        job.rekeyed = [MoveJob.Rekey(from: IdentityKey(model: "Report", primaryKey: [.int(1)], token: "asia"),
                                     to: IdentityKey(model: "Report", primaryKey: [.int(13)], token: "europe"))]
        let text = job.fileJSON.serialized
        let read = try MoveJob(fileJSON: try JSONValue.parse(Array(text.utf8)))
        // Renumbered keys are kept beside the job, one line each (JobFile).
        var withoutRekeyed = job
        withoutRekeyed.rekeyed = []
        #expect(read == withoutRekeyed, "\(text)")
        let line = job.rekeyed[0].fileJSON.serialized
        #expect(try MoveJob.Rekey(fileJSON: try JSONValue.parse(Array(line.utf8))) == job.rekeyed[0], "\(line)")
        #expect(throws: MoveJob.FormatError.self) { try MoveJob(fileJSON: try JSONValue.parse(Array(#"{"job":1}"#.utf8))) }
        let answer = job.answer
        #expect(answer["moves"] == .int(5) && answer["moves_done"] == .int(1) && answer["rows_total"] == .int(28))
        #expect(answer["rekeyed"]?[0]?["to"] == .array([.string("Report"), .array([.int(13)]), .string("europe")]))
        #expect(answer["rekeyed_count"] == .int(1))
        #expect(answer["steps"]?[1]?["phase"] == .string("switched"))
    }

    @Test func aSwitchHandsTheUnitsToTheTargetOneVersionOn() throws {
        let configuration = try PlacementMapTests.configuration()
        let placement = PlacementMap(configuration: configuration)
        let asia = placement.moving([.value(.text("Asia"))], of: "WeatherLocation", to: "europe")
        #expect(asia.version == 2 && asia.owner(of: .value(.text("Asia")), in: "WeatherLocation") == "europe")
        #expect(asia.owner(of: .value(.text("Europe")), in: "WeatherLocation") == "europe")
        let buckets = placement.moving([.bucket(0), .bucket(4)], of: "Station", to: "asia")
        #expect(buckets.owner(of: .bucket(0), in: "Station") == "asia" && buckets.owner(of: .bucket(4), in: "Station") == "asia")
        #expect(buckets.owner(of: .bucket(8), in: "Station") == "north_america")
        #expect(buckets.owner(of: .bucket(99_999), in: "Station") == nil)
        // Routing follows: a new Asian row goes to europe.
        let routed = asia.routing(configuration)
        #expect(PlacementMapTests.owner(routed, "WeatherLocation", .text("Asia")) == "europe")
    }

    @Test func aUnitHoldsTheRowsItsRuleSays() {
        let hash = ShardBy.hash(column: "code", buckets: HashBuckets(count: 16, shards: ["a", "b"]))
        let bucket = HashBuckets(count: 16, shards: ["a"]).bucket(of: .text("S1"))!
        #expect(PlacementUnit.bucket(bucket).contains(.text("S1"), under: hash))
        #expect(!PlacementUnit.bucket((bucket + 1) % 16).contains(.text("S1"), under: hash))
        let range = PlacementUnit.range(lower: .int(0), upper: .int(10))
        #expect(range.contains(.int(0), under: hash) && range.contains(.int(9), under: hash) && !range.contains(.int(10), under: hash))
        #expect(PlacementUnit.value(.text("Asia")).contains(.text("Asia"), under: hash))
    }
}
