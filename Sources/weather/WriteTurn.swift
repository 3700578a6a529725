/// Lets one `add` + `commit` of a client run at a time, however many requests it pipelines.
///
/// A session has one transaction: two adds in flight on one session would join one
/// transaction across two shards, holding the first shard's write lock while waiting for the
/// second's, which another session may hold the other way round (SQLite shards then wait for
/// each other until `request_timeout_ms`). One write at a time keeps each transaction on one
/// shard, as `add` + `commit` means.
actor WriteTurn {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Waits until no other add of this client is in flight, then takes the turn.
    func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the turn to the next waiting add, if any.
    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
