import Testing
@testable import ShardStore

/// The inline decision alone: which statements start on a borrower's thread.
@Suite struct InlineCostTests {
    @Test func anUnknownCostNeverFits() {
        let cost = InlineCost()
        #expect(!cost.fits(now: 0, deadline: .max))
    }

    @Test func aKnownCostFitsWhenItTakesAtMostHalfTheTimeLeft() {
        var cost = InlineCost()
        cost.ran(300)
        #expect(cost.fits(now: 1_000, deadline: 1_600))
        #expect(!cost.fits(now: 1_001, deadline: 1_600))
        #expect(!cost.fits(now: 2_000, deadline: 1_300), "past the deadline nothing fits")
    }

    /// A point select preempted once on a busy machine is still a point select: with the
    /// estimate its slowest run, the gets after it went to the queue until it decayed.
    @Test func oneSlowRunAmongQuickOnesIsTheMachinesNotTheStatements() {
        var cost = InlineCost()
        cost.ran(5_000)
        cost.ran(3_000_000)
        #expect(cost.nanoseconds == 5_000)
        #expect(cost.fits(now: 0, deadline: 500_000))
        cost.ran(4_000)
        #expect(cost.nanoseconds == 4_000)
    }

    @Test func aStatementSlowTwiceInARowIsSlow() {
        var cost = InlineCost()
        cost.ran(5_000)
        cost.ran(2_000_000)
        cost.ran(1_800_000)
        #expect(cost.nanoseconds == 1_800_000)
        #expect(!cost.fits(now: 0, deadline: 500_000))
        cost.ran(5_000)
        #expect(cost.nanoseconds == 5_000, "quick again: the lower of the last two")
    }

    @Test func theFirstRunIsTheEstimate() {
        var cost = InlineCost()
        cost.ran(2_000_000)
        #expect(cost.nanoseconds == 2_000_000)
        #expect(!cost.fits(now: 0, deadline: 500_000))
    }

    @Test func anInterruptedStatementIsUnknownAgainUntilItRunsToItsEnd() {
        var cost = InlineCost()
        cost.ran(100)
        cost.interrupted()
        #expect(cost.nanoseconds == nil)
        #expect(!cost.fits(now: 0, deadline: .max))
        cost.ran(2_000_000)
        #expect(cost.nanoseconds == 2_000_000, "measured afresh on the queue, not the lower of it and a run before")
    }
}
