/// What a prepared statement cost in its last runs on its connection: decides, before the
/// statement starts, whether it can finish on a borrower's thread in the inline time left
/// (`ShardConnection.limitInlineWork`). One that would not goes to the connection's queue with
/// nothing done, instead of being interrupted at the deadline and run again from the start.
struct InlineCost: Equatable {
    /// nil until the statement runs to its end on this connection (or since it was
    /// interrupted): an unknown cost is not tried inline, it is measured on the queue.
    /// Otherwise the lower of its last two runs' times: the machine can only slow a run down
    /// (a thread preempted mid-statement, on a busy 2-core host, for milliseconds), so one
    /// slow run among quick ones is the machine's, not the statement's, and does not send the
    /// point selects after it to the queue.
    private(set) var nanoseconds: UInt64?
    /// The last run's time, nil as `nanoseconds`.
    private var last: UInt64?

    /// Whether a run starting at `now` is expected to end by `deadline` (uptime nanoseconds)
    /// with room to spare: its cost may take at most half the time left, so that a
    /// statement whose cost sits near the budget (it varies with the machine's load) goes to
    /// the queue rather than be interrupted there every other time.
    func fits(now: UInt64, deadline: UInt64) -> Bool {
        guard let nanoseconds, now < deadline else { return false }
        return nanoseconds <= (deadline - now) / 2
    }

    /// A run to the end took `elapsed`: the estimate is the lower of it and the run before.
    /// A statement slow twice in a row counts as slow; one that turns slow for its
    /// parameters is at worst interrupted once inline, and is then measured on the queue.
    mutating func ran(_ elapsed: UInt64) {
        nanoseconds = min(elapsed, last ?? elapsed)
        last = elapsed
    }

    /// Stopped at an inline deadline: its cost is unknown again (more than the budget), and
    /// its next run, on the queue, measures it.
    mutating func interrupted() {
        nanoseconds = nil
        last = nil
    }
}

/// How bounded work on a borrower's thread ended (`ShardConnection.limitInlineWork`).
package enum InlineStop: Sendable, Equatable {
    /// Nothing was stopped.
    case none
    /// A statement was not started (its `InlineCost` is more than half the time left, or it
    /// is not known yet), or it met a lock it must not wait for there: nothing was lost.
    case declined
    /// A statement was stopped at the deadline: its work so far is lost, and runs again.
    case interrupted
}
