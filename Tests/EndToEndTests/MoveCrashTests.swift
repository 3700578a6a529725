import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// A real daemon (the fault build) killed in a move at its fault points (protocol.md 6.2),
/// restarted, and the shards read directly: every row of the unit exactly once, on the
/// target once the job is done, nothing of the move left; and a move that takes writes
/// while it copies ends with all of them on the new shard.
@Suite(.serialized) struct MoveCrashTests {
    typealias Layout = MoveTests.Layout

    struct Case: CustomStringConvertible, Sendable {
        var point: String
        var layout: Layout
        var description: String { "\(point) on \(layout)" }
    }

    static let cases = Layout.allCases.flatMap { layout in
        ["move.after_copy", "move.after_switch"].map { Case(point: $0, layout: layout) }
    }

    static let models = ["WeatherLocation", "Report", "Sample"]

    /// Whether the daemon reaches the hold at `move.after_copy` (within 10 s).
    static func holds(_ daemon: Daemon) -> Bool {
        for _ in 0..<1000 {
            if daemon.log().contains("fault point move.after_copy: holding") { return true }
            usleep(10_000)
        }
        return false
    }

    @Test(arguments: cases)
    func aDaemonKilledInAMoveFinishesItAfterARestart(_ crash: Case) async throws {
        let environment = try await MoveTests.environment(crash.layout)
        let daemon = try Daemon(config: MoveTests.config(crash.layout), environment: environment.merging(["SHARDD_FAULT": crash.point]) { $1 },
                                binary: try Daemon.faultsBinary())
        let client = try daemon.client()
        try MoveTests.seed(client)
        let before = try Self.models.map { try MoveTests.contents(client, $0) }
        #expect(try client.request(#"{"op":"move","model":"Report","value":"Asia","to":"\#(crash.layout.target)"}"#)["job"] == .int(1))
        #expect(daemon.waitForExit() == SIGKILL, "\(daemon.log())")

        let recovered = try daemon.restart()
        let session = try recovered.client()
        // Readable once, wherever the move stands: the same rows as before, none twice.
        #expect(try Self.models.map { try MoveTests.contents(session, $0) } == before, "\(recovered.log())")
        let job = try MoveTests.finished(session, job: 1)
        #expect(job["state"] == .string("done"), "\(job) \(recovered.log())")
        #expect(recovered.log().contains("job 1: resuming at WeatherLocation value \"Asia\""), "\(recovered.log())")
        if crash.point == "move.after_switch" {
            #expect(recovered.log().contains("had committed; placement updated") || job["steps"]?[0]?["phase"] == .string("done"))
        }
        #expect(try Self.models.map { try MoveTests.contents(session, $0) } == before)
        try await Self.expectMoved(recovered, to: crash.layout.target)
        #expect(try session.request(#"{"op":"placement","model":"Report"}"#)["groups"]?[0]?["owners"]?["Asia"] == .string(crash.layout.target))

        // A second restart finds nothing to do and changes nothing.
        let again = try recovered.restart()
        #expect(try Self.models.map { try MoveTests.contents(again.client(), $0) } == before)
        try await Self.expectMoved(again, to: crash.layout.target)
        #expect(again.stop() == 0)
    }

    /// Asia's rows all on `target`, none on asia, no scaffolding or commit left anywhere.
    static func expectMoved(_ daemon: Daemon, to target: String, reports: Int64 = 12, samples: Int64 = 6, cities: Int64 = 3) async throws {
        let inspection = try ShardInspection(daemon)
        #expect(try await MoveTests.asianRows(inspection, "asia") == [0, 0, 0, 0])
        #expect(try await MoveTests.asianRows(inspection, target) == [cities, reports, 0, samples])
        for shard in ["asia", target] { #expect(try await MoveTests.scaffolding(inspection, shard) == 0, "\(shard)") }
        #expect(try await CommitTests.eventuallyNoLeftovers(inspection) == 0)
    }

    /// Writes of every kind reach the unit while its rows are copied (the move held after its
    /// copy): after the switch every committed one is on the new shard; a transaction left open
    /// on the unit is rolled back with reason moved after move_switch_timeout_ms.
    @Test(arguments: Layout.allCases)
    func writesMadeWhileAUnitMovesAreAllOnTheNewShard(_ layout: Layout) async throws {
        let directory = TemporaryDirectory()
        let hold = directory.path + "/hold"
        FileManager.default.createFile(atPath: hold, contents: nil)
        let environment = try await MoveTests.environment(layout).merging(["SHARDD_FAULT_HOLD": "move.after_copy:\(hold)"]) { $1 }
        let daemon = try Daemon(config: MoveTests.config(layout, server: "move_switch_timeout_ms = 300"), environment: environment,
                                in: directory, binary: try Daemon.faultsBinary())
        let client = try daemon.client()
        try MoveTests.seed(client)
        let reports = try #require(try client.request(#"{"op":"query","model":"Report","where":{"location_id":1},"order_by":["id"]}"#)["objects"]?.arrayValue)
        #expect(try client.request(#"{"op":"move","model":"WeatherLocation","value":"Asia","to":"\#(layout.target)"}"#)["job"] == .int(1))
        #expect(MoveCrashTests.holds(daemon), "\(daemon.log())")

        // Writes of every kind to the moving unit, committed; and one transaction left open.
        let writes = [
            #"{"op":"update","key":\#(reports[0]["key"]!.serialized),"values":{"temperature":-40.5}}"#,
            #"{"op":"delete","key":\#(reports[1]["key"]!.serialized)}"#,
            #"{"op":"update_where","model":"Report","where":{"location_id":2},"values":{"temperature":99.0}}"#,
            #"{"op":"delete_where","model":"Sample","where":{"code":"Seoul-a"}}"#,
            #"{"op":"add","model":"Sample","values":{"code":"Tokyo-c","location_id":1,"flag":true,"note":"late","value":2.5,"at":"2026-12-01T00:00:00.000001Z","big":7}}"#,
        ]
        for write in writes { #expect(try client.request(write)["ok"] == .bool(true), "\(write)") }
        let delhi = try client.request(#"{"op":"add","model":"WeatherLocation","values":{"continent":"Asia","city":"Delhi"}}"#)
        let delhiID = try #require(delhi["objects"]?[0]?["values"]?["id"]?.intValue, "\(delhi)")
        #expect(try client.request(#"{"op":"add","model":"Report","rows":[{"location_id":\#(delhiID),"temperature":30.0},{"location_id":\#(delhiID),"temperature":31.0}]}"#)["ok"] == .bool(true))
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        let open = try daemon.client()
        #expect(try open.request(#"{"op":"begin"}"#)["ok"] == .bool(true))
        #expect(try open.request(#"{"op":"update","key":\#(reports[2]["key"]!.serialized),"values":{"temperature":12345.0}}"#)["ok"] == .bool(true))
        let expected = try MoveCrashTests.models.map { try MoveTests.contents(client, $0) }
        // shards counts what clients see: not the target's hidden copies.
        let shards = try client.request(#"{"op":"shards"}"#)["shards"]?.arrayValue ?? []
        let onTarget = shards.first { $0["name"] == .string(layout.target) }
        #expect(onTarget?["rows"]?["WeatherLocation"] == .int(layout == .sqlite ? 2 : 0), "\(shards)")
        #expect(!expected[1].contains { $0.contains(#""temperature":12345"#) })

        try FileManager.default.removeItem(atPath: hold)
        let job = try MoveTests.finished(client, job: 1)
        #expect(job["state"] == .string("done"), "\(job) \(daemon.log())")
        let aborted = try open.request(#"{"op":"get","model":"Report","pk":1}"#)
        #expect(aborted["error"]?["code"] == .string("transaction_aborted") && aborted["error"]?["reason"] == .string("moved"), "\(aborted)")
        #expect(try open.request(#"{"op":"ping"}"#)["ok"] == .bool(true))

        #expect(try MoveCrashTests.models.map { try MoveTests.contents(client, $0) } == expected)
        // 12 reports - 1 deleted + 2 of Delhi; 6 samples - 1 + 1.
        try await Self.expectMoved(daemon, to: layout.target, reports: 13, samples: 6, cities: 4)
        #expect(try client.request(#"{"op":"verify"}"#)["clean"] == .bool(true))
        #expect(daemon.stop() == 0)
    }
}

extension MoveCrashTests {
    /// SIGTERM while a move waits at its switch for a transaction on the unit: the daemon
    /// stops (exit 0) without calling the move failed, and the next start finishes it.
    @Test func aMoveCutShortByAShutdownResumesAtTheNextStart() async throws {
        let directory = TemporaryDirectory()
        let hold = directory.path + "/hold"
        FileManager.default.createFile(atPath: hold, contents: nil)
        let daemon = try Daemon(config: MoveTests.config(.sqlite, server: "move_switch_timeout_ms = 60000"),
                                environment: ["SHARDD_FAULT_HOLD": "move.after_copy:\(hold)"], in: directory, binary: try Daemon.faultsBinary())
        let client = try daemon.client()
        try MoveTests.seed(client)
        let before = try Self.models.map { try MoveTests.contents(client, $0) }
        #expect(try client.request(#"{"op":"move","model":"Report","value":"Asia","to":"europe"}"#)["job"] == .int(1))
        #expect(MoveCrashTests.holds(daemon), "\(daemon.log())")
        let open = try daemon.client()
        #expect(try open.request(#"{"op":"add","model":"Report","values":{"location_id":1,"temperature":5.0}}"#)["ok"] == .bool(true))
        // On to the switch, which waits for the open transaction; then the daemon is stopped.
        try FileManager.default.removeItem(atPath: hold)
        usleep(300_000)
        daemon.process.terminate()
        #expect(daemon.waitForExit() == 0, "\(daemon.log())")
        #expect(!daemon.log().contains("job 1 failed"), "\(daemon.log())")

        let again = try daemon.restart(environment: [:])
        let session = try again.client()
        #expect(try MoveTests.finished(session, job: 1)["state"] == .string("done"), "\(again.log())")
        #expect(try Self.models.map { try MoveTests.contents(session, $0) } == before)
        try await Self.expectMoved(again, to: "europe")
        #expect(again.stop() == 0)
    }
}

/// A move whose target (a PostgreSQL cluster of its own) crashes at the switch: the move
/// cannot finish and cannot be undone while it is down; the job stays running with the
/// reason, the rows stay where they were, and once the target is back the undo completes,
/// the job fails, and nothing of the move is left on either shard.
@Suite struct MoveOutageTests {
    @Test func aMoveWhoseTargetIsLostIsUndoneWhenItIsBack() async throws {
        let directory = TemporaryDirectory()
        let cluster = try OutageTests.Cluster(directory: directory.path, durable: true)
        let hold = directory.path + "/hold"
        FileManager.default.createFile(atPath: hold, contents: nil)
        let config = MoveTests.config(.mixed)
        let daemon = try Daemon(config: config, environment: ["SHARDD_PG_FIFTH": cluster.url, "SHARDD_FAULT_HOLD": "move.after_copy:\(hold)"],
                                in: directory, binary: try Daemon.faultsBinary())
        let client = try daemon.client()
        try MoveTests.seed(client)
        // What asia holds of Asia, read where only asia is asked.
        func asian() throws -> [[String]] {
            [try MoveTests.contents(client, "WeatherLocation", where: #"{"continent":"Asia"}"#),
             try MoveTests.contents(client, "Report", where: #"["in","location_id",[1,2,3]]"#),
             try MoveTests.contents(client, "Sample", where: #"["in","location_id",[1,2,3]]"#)]
        }
        let before = try asian()
        #expect(try client.request(#"{"op":"move","model":"Report","value":"Asia","to":"fifth"}"#)["job"] == .int(1))
        #expect(MoveCrashTests.holds(daemon), "\(daemon.log())")
        try cluster.run("crash")
        try FileManager.default.removeItem(atPath: hold)
        var job = JSONValue.null
        for _ in 0..<300 {
            usleep(20_000)
            job = try client.request(#"{"op":"jobs","job":1}"#)["jobs"]?[0] ?? .null
            if job["error"] != nil { break }
        }
        #expect(job["state"] == .string("running") && job["error"]?.stringValue?.contains("fifth") == true, "\(job)")
        // Asia is still asia's, readable (the query needs only asia).
        #expect(try client.request(#"{"op":"query","model":"Report","where":{"location_id":1},"shard":"asia"}"#)["objects"]?.arrayValue?.count == 4)

        try cluster.run("start")
        let ended = try MoveTests.finished(client, job: 1, seconds: 60)
        #expect(ended["state"] == .string("failed"), "\(ended) \(daemon.log())")
        let inspection = try ShardInspection(daemon)
        #expect(try await MoveTests.asianRows(inspection, "asia") == [3, 12, 0, 6])
        #expect(try await MoveTests.asianRows(inspection, "fifth") == [0, 0, 0, 0])
        for shard in ["asia", "fifth"] { #expect(try await MoveTests.scaffolding(inspection, shard) == 0, "\(shard)") }
        #expect(try asian() == before)
        #expect(daemon.stop() == 0)
    }
}
