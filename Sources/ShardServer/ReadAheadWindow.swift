/// Which of a session's queued requests it may read ahead of (`Session.readAhead`): the run
/// of gets right behind the get being handled, up to the first request that is not a get.
///
/// Requests are numbered by arrival (1, 2, ...). Reading a get early is invisible to the
/// client only while nothing before it in the queue can change what it reads: a write, a
/// `begin` or anything else ends the run, and nothing past it is read ahead until it has
/// been handled.
struct ReadAheadWindow: Equatable {
    /// Gets read ahead of the one being handled at most: two of a PostgreSQL shard's batches.
    static let depth = 32

    /// Requests up to this number have been looked at.
    private(set) var examined = 0
    /// A request that is not a get, or could not be read as one.
    private(set) var barrier: Int?

    /// The requests to look at while the get numbered `current` is handled with `queued`
    /// requests behind it; each is then reported with `looked(at:isGet:)`, in order, until
    /// one is not a get.
    mutating func next(current: Int, queued: Int) -> ClosedRange<Int>? {
        if let barrier {
            guard current > barrier else { return nil }
            self.barrier = nil
        }
        let first = max(current + 1, examined + 1)
        let last = current + min(queued, ReadAheadWindow.depth)
        return first <= last ? first...last : nil
    }

    /// Records the request numbered `number` as looked at; one that is not a get ends the run.
    mutating func looked(at number: Int, isGet: Bool) {
        examined = max(examined, number)
        if !isGet { barrier = number }
    }
}
