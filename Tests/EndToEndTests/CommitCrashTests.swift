import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Testing

/// A real daemon (the fault build) killed at each fault point of a cross-shard commit
/// (protocol.md 6.2), restarted, and the shards read row by row: all of the writes or none,
/// nothing of the commit left behind, and a second restart changes nothing.
@Suite(.serialized) struct CommitCrashTests {
    typealias Layout = CommitTests.Layout

    struct Case: CustomStringConvertible, Sendable {
        var point: String
        var layout: Layout
        /// Whether the commit is decided at the point (then recovery finishes it).
        var decided: Bool
        var description: String { "\(point) on \(layout)" }
    }

    static let cases: [Case] = Layout.allCases.flatMap { layout in
        [Case(point: "commit.after_prepare", layout: layout, decided: false),
         Case(point: "commit.after_decision", layout: layout, decided: true),
         Case(point: "commit.after_first_shard", layout: layout, decided: true)]
    }

    /// Entries on the first three shards, then a labelled commit that the daemon dies in.
    static func dieInCommit(_ point: String, _ layout: Layout) async throws -> Daemon {
        let daemon = try await CommitTests.start(layout, binary: try Daemon.faultsBinary(), environment: ["SHARDD_FAULT": point])
        let client = try daemon.client()
        try CommitTests.add(client, Array(layout.shards.prefix(3)), first: 1)
        try client.send(#"{"op":"commit","label":"crash"}"#)
        #expect(try client.receiveLine() == nil, "the daemon answered instead of dying at \(point)")
        #expect(daemon.waitForExit() == SIGKILL, "\(daemon.log())")
        return daemon
    }

    /// What the first three shards hold of the entries, and what is left of the commit.
    static func state(_ daemon: Daemon, _ layout: Layout) async throws -> (entries: [Int64], leftovers: Int64) {
        let inspection = try ShardInspection(daemon)
        var entries: [Int64] = []
        for shard in layout.shards.prefix(3) { entries.append(try await inspection.count(shard, "SELECT count(*) FROM entry")) }
        return (entries, try await inspection.leftovers())
    }

    @Test(arguments: cases)
    func aDaemonKilledInACommitRecoversAllOrNothing(_ crash: Case) async throws {
        let dead = try await Self.dieInCommit(crash.point, crash.layout)
        let recovered = try dead.restart()
        let expected: [Int64] = crash.decided ? [1, 1, 1] : [0, 0, 0]
        let after = try await Self.state(recovered, crash.layout)
        #expect(after.entries == expected, "\(crash): \(recovered.log())")
        #expect(after.leftovers == 0, "no marker or prepared transaction left: \(recovered.log())")
        if crash.decided {
            #expect(recovered.log().contains("commit recovery: finished transaction"), "a warning per shard it finished")
        } else if crash.layout == .mixed {
            #expect(recovered.log().contains("it was prepared and never decided"), "the prepared transaction was rolled back")
        }
        let client = try recovered.client()
        let status = try client.request(#"{"op":"transaction_status","label":"crash"}"#)
        #expect(status["outcome"] == .string(crash.decided ? "committed" : "not_committed"), "\(status)")
        #expect(try client.request(#"{"op":"transactions"}"#)["transactions"] == .array([]))
        #expect(try client.request(#"{"op":"count","model":"Entry"}"#)["count"] == .int(crash.decided ? 3 : 0))

        // A second restart finds nothing to do and changes nothing.
        let again = try recovered.restart()
        let second = try await Self.state(again, crash.layout)
        #expect(second.entries == expected && second.leftovers == 0)
        #expect(again.stop() == 0)
    }

    /// The decision's write was torn (the daemon died in it): it is no decision, and the
    /// transaction is rolled back everywhere, prepared transactions included.
    @Test func aTornLastDecisionIsNoDecision() async throws {
        let dead = try await Self.dieInCommit("commit.after_decision", .mixed)
        let path = dead.directory.path + "/data/commits.log"
        let log = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(log.count > CommitLogFormat.header.count + 8)
        try log.prefix(log.count - 3).write(to: URL(fileURLWithPath: path))
        let recovered = try dead.restart()
        let after = try await Self.state(recovered, .mixed)
        #expect(after.entries == [0, 0, 0], "\(recovered.log())")
        #expect(after.leftovers == 0)
        #expect(recovered.log().contains("was torn"))
        #expect(try recovered.client().request(#"{"op":"transaction_status","label":"crash"}"#)["outcome"] == .string("not_committed"))
        #expect(recovered.stop() == 0)
    }
}
