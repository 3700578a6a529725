/// What a prepared statement cost when it last ran on its connection: decides, before the
/// statement starts, whether it can finish on a borrower's thread in the inline time left
/// (`ShardConnection.limitInlineWork`). One that would not goes to the connection's queue with
/// nothing done, instead of being interrupted at the deadline and run again from the start.
struct InlineCost: Equatable {
    /// nil until the statement runs to its end on this connection (or since it was
    /// interrupted): an unknown cost is not tried inline, it is measured on the queue.
    private(set) var nanoseconds: UInt64?

    /// Whether a run starting at `now` is expected to end by `deadline` (uptime nanoseconds)
    /// with room to spare: its last cost may take at most half the time left, so that a
    /// statement whose cost sits near the budget (it varies with the machine's load) goes to
    /// the queue rather than be interrupted there every other time.
    func fits(now: UInt64, deadline: UInt64) -> Bool {
        guard let nanoseconds, now < deadline else { return false }
        return nanoseconds <= (deadline - now) / 2
    }

    /// A run to the end took `elapsed`. A slower run counts at once; a faster one at most
    /// halves the estimate, so that a statement whose cost swings with its parameters is not
    /// tried inline again after one quick run.
    mutating func ran(_ elapsed: UInt64) {
        nanoseconds = max(elapsed, (nanoseconds ?? 0) / 2)
    }

    /// Stopped at an inline deadline: its cost is unknown again (more than the budget), and
    /// its next run, on the queue, measures it.
    mutating func interrupted() {
        nanoseconds = nil
    }
}

/// How bounded work on a borrower's thread ended (`ShardConnection.limitInlineWork`).
package enum InlineStop: Sendable, Equatable {
    /// Nothing was stopped.
    case none
    /// A statement was not started (its last run took more than half the time left, or its
    /// cost is not known yet), or it met a lock it must not wait for there: nothing was lost.
    case declined
    /// A statement was stopped at the deadline: its work so far is lost, and runs again.
    case interrupted
}
