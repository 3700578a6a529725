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

    @Test func aSlowRunCountsAtOnceAndQuickRunsWinBackSlowly() {
        var cost = InlineCost()
        cost.ran(100)
        cost.ran(8_000)
        #expect(cost.nanoseconds == 8_000)
        cost.ran(100)
        #expect(cost.nanoseconds == 4_000, "one quick run halves the estimate, no more")
        cost.ran(100); cost.ran(100); cost.ran(100); cost.ran(100); cost.ran(100)
        #expect(cost.nanoseconds == 125)
        cost.ran(100)
        #expect(cost.nanoseconds == 100)
    }

    @Test func anInterruptedStatementIsUnknownAgainUntilItRunsToItsEnd() {
        var cost = InlineCost()
        cost.ran(100)
        cost.interrupted()
        #expect(cost.nanoseconds == nil)
        #expect(!cost.fits(now: 0, deadline: .max))
        cost.ran(2_000_000)
        #expect(cost.nanoseconds == 2_000_000, "measured afresh on the queue, not halved from nothing")
    }
}
