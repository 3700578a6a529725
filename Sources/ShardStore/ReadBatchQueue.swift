/// Who runs a shard's batched reads, and what waits for them (`Shard.readBatched`): a value type,
/// tested without I/O.
///
/// A read that arrives while fewer than `runners` reads are running becomes a runner itself
/// and runs at once, taking along whatever waits; one that arrives while they all run waits,
/// and the next batch takes it. Under a light load every read runs alone, as before; under a
/// heavy one, reads leave in batches of up to `batchLimit`, one round trip each.
package struct ReadBatchQueue<Waiter> {
    /// At most this many batches run at once (each holds one of the shard's connections).
    package var runners: Int
    /// At most this many reads per batch.
    package let batchLimit: Int
    package private(set) var active = 0
    private var waiting: [Waiter] = []
    private var head = 0

    package init(runners: Int, batchLimit: Int) {
        precondition(runners >= 1 && batchLimit >= 1)
        self.runners = runners
        self.batchLimit = batchLimit
    }

    /// Reads waiting for a batch.
    package var waitingCount: Int { waiting.count - head }

    /// A read arrives: true when it is to run now, as a runner (counted as active).
    package mutating func arrive() -> Bool {
        guard active < runners else { return false }
        active += 1
        return true
    }

    /// A read that could not run waits. True when a runner freed meanwhile: the caller then
    /// starts one (already counted as active) for what waits.
    package mutating func park(_ waiter: Waiter) -> Bool {
        park(contentsOf: [waiter]) > 0
    }

    /// Several reads wait at once. Returns how many runners the caller starts for them
    /// (counted as active): one per batch of what waits, as far as `runners` allows.
    package mutating func park(contentsOf waiters: [Waiter]) -> Int {
        waiting.append(contentsOf: waiters)
        let batches = (waitingCount + batchLimit - 1) / batchLimit
        let starts = max(0, min(runners - active, batches))
        active += starts
        return starts
    }

    /// Up to `limit` waiting reads, oldest first, for a runner's batch.
    package mutating func take(_ limit: Int) -> [Waiter] {
        let count = min(limit, waitingCount)
        let taken = Array(waiting[head..<head + count])
        head += count
        if head == waiting.count {
            waiting.removeAll(keepingCapacity: waiting.capacity <= 1024)
            head = 0
        }
        return taken
    }

    /// A runner finished a batch: the next batch of waiting reads, or, when none waits, an
    /// empty one and the runner stops (no longer active).
    package mutating func next() -> [Waiter] {
        let batch = take(batchLimit)
        if batch.isEmpty { active -= 1 }
        return batch
    }
}
