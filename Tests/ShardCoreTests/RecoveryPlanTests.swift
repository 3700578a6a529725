import Testing

@testable import ShardCore
import ShardProtocol

/// Recovery's decisions from what the log and the shards hold, without a database.
@Suite struct RecoveryPlanTests {
    static let instance = "a1b2c3"
    static func txid(_ sequence: UInt64, epoch: String = "old") -> TransactionID {
        TransactionID(instance: instance, epoch: epoch, sequence: sequence)
    }
    static func decision(_ txid: TransactionID) -> CommitDecision {
        CommitDecision(txid: txid, label: nil, decidedAt: Timestamp(microseconds: 0), participants: [
            .init(shard: "asia", finish: .applyChangeset([9])),
            .init(shard: "europe", finish: .commitPrepared(gid: txid.gid(for: "europe"))),
        ])
    }

    static func plan(_ decisions: [CommitDecision], completed: Set<TransactionID> = [], _ facts: [String: RecoveryPlan.ShardFacts],
                     inFlight: Set<TransactionID> = [], abandoned: Set<String> = []) -> RecoveryPlan {
        RecoveryPlan(decisions: decisions, completed: completed, facts: facts, instance: instance, epoch: "now",
                     inFlight: inFlight, abandoned: abandoned)
    }

    @Test func aDecisionIsFinishedOnEveryShardThatHasNoMarker() {
        let t = Self.txid(1)
        let plan = Self.plan([Self.decision(t)], ["asia": .init(), "europe": .init(prepared: [t.gid(for: "europe")])])
        #expect(plan.actions == [.applyChangeset(shard: "asia", changeset: [9], txid: t),
                                 .commitPrepared(shard: "europe", gid: t.gid(for: "europe"), txid: t)])
        #expect(plan.finished == [t] && plan.lost.isEmpty && plan.waiting.isEmpty)
    }

    @Test func aShardWithTheMarkerIsNeverFinishedTwice() {
        let t = Self.txid(1)
        let plan = Self.plan([Self.decision(t)], ["asia": .init(markers: [t]), "europe": .init(markers: [t])])
        #expect(plan.actions.isEmpty && plan.finished == [t])
    }

    @Test func notFoundIsNeverTakenForCommitted() {
        let t = Self.txid(1)
        let plan = Self.plan([Self.decision(t)], ["asia": .init(markers: [t]), "europe": .init()])
        #expect(plan.actions.isEmpty)
        #expect(plan.lost == [RecoveryPlan.Lost(txid: t, shard: "europe", gid: t.gid(for: "europe"))])
        #expect(plan.finished.isEmpty, "kept pending, reported")
    }

    @Test func anUnreachableShardKeepsTheDecisionWaiting() {
        let t = Self.txid(1)
        let plan = Self.plan([Self.decision(t)], ["asia": .init()])
        #expect(plan.actions == [.applyChangeset(shard: "asia", changeset: [9], txid: t)])
        #expect(plan.finished.isEmpty && plan.waiting.map(\.shards) == [["europe"]])
    }

    @Test func undecidedPreparedTransactionsAreRolledBackOnlyWhenNoneCanBeInFlight() {
        let earlierRun = Self.txid(3, epoch: "old"), thisRun = Self.txid(4, epoch: "now"), givenUp = Self.txid(5, epoch: "now")
        let flying = Self.txid(6, epoch: "old")
        let prepared: Set<String> = [earlierRun.gid(for: "europe"), thisRun.gid(for: "europe"), givenUp.gid(for: "europe"),
                                     flying.gid(for: "europe"), "shardd_ffffff_old_1_europe", "someone_else"]
        let plan = Self.plan([], ["europe": .init(prepared: prepared)], inFlight: [flying], abandoned: [givenUp.gid(for: "europe")])
        #expect(Set(plan.actions) == [.rollbackPrepared(shard: "europe", gid: earlierRun.gid(for: "europe")),
                                      .rollbackPrepared(shard: "europe", gid: givenUp.gid(for: "europe"))])
        // A decided one is committed, never rolled back.
        let decided = Self.plan([Self.decision(earlierRun)], ["asia": .init(markers: [earlierRun]), "europe": .init(prepared: [earlierRun.gid(for: "europe")])])
        #expect(decided.actions == [.commitPrepared(shard: "europe", gid: earlierRun.gid(for: "europe"), txid: earlierRun)])
    }

    @Test func markersOfCompletedTransactionsGo() {
        let done = Self.txid(1), unknown = Self.txid(2)
        let plan = Self.plan([], completed: [done], ["asia": .init(markers: [done, unknown])])
        #expect(plan.actions == [.deleteMarkers(shard: "asia", [done])])
    }
}
