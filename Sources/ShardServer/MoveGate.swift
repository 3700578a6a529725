import Synchronization

/// Where requests on a placement group wait while one of its units switches shards
/// (protocol.md 13): the switch closes the gate, waits for the requests inside to leave,
/// commits, and opens it again, at most `move_pause_ms` later.
///
/// Only groups with a move in progress are watched; with none, `enter` is one atomic load.
final class MoveGate: Sendable {
    private struct Group {
        var closed = false
        var inside = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let groups = Mutex<[String: Group]>([:])
    private let watched = Atomic<Int>(0)

    /// Whether any group is watched (the fast path of every request).
    var isActive: Bool { watched.load(ordering: .acquiring) > 0 }

    /// A move of `group` starts: requests on it are counted from now on.
    func watch(_ group: String) {
        groups.withLock { groups in
            if groups[group] == nil { groups[group] = Group() }
        }
        watched.add(1, ordering: .releasing)
    }

    /// The move ended: the group is opened and no longer watched.
    func unwatch(_ group: String) {
        open(group)
        watched.subtract(1, ordering: .releasing)
    }

    /// Whether any of `names` is closed now.
    func isClosed(_ names: [String]) -> Bool {
        groups.withLock { groups in names.contains { groups[$0]?.closed == true } }
    }

    /// Waits while any of `names` is closed, then counts the request inside the watched ones;
    /// the returned names go to `leave` when the request ends.
    func enter(_ names: [String]) async -> [String] {
        while true {
            var blocked: String?
            let entered = groups.withLock { groups -> [String] in
                if let closed = names.first(where: { groups[$0]?.closed == true }) {
                    blocked = closed
                    return []
                }
                let inside = names.filter { groups[$0] != nil }
                for name in inside { groups[name]!.inside += 1 }
                return inside
            }
            guard let blocked else { return entered }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wait = groups.withLock { groups -> Bool in
                    guard groups[blocked]?.closed == true else { return false }
                    groups[blocked]!.waiting.append(continuation)
                    return true
                }
                if !wait { continuation.resume() }
            }
        }
    }

    func leave(_ names: [String]) {
        guard !names.isEmpty else { return }
        groups.withLock { groups in
            for name in names where groups[name] != nil { groups[name]!.inside -= 1 }
        }
    }

    /// Closes `group`: requests arriving wait; true once none is inside, false (and open
    /// again) when some are still inside at `deadline`.
    func close(_ group: String, until deadline: ContinuousClock.Instant) async -> Bool {
        groups.withLock { $0[group]?.closed = true }
        while groups.withLock({ ($0[group]?.inside ?? 0) > 0 }) {
            guard ContinuousClock.now < deadline else {
                open(group)
                return false
            }
            try? await Task.sleep(for: .microseconds(200))
        }
        return true
    }

    /// Opens `group`: the requests waiting go on.
    func open(_ group: String) {
        let waiting = groups.withLock { groups -> [CheckedContinuation<Void, Never>] in
            guard groups[group] != nil else { return [] }
            groups[group]!.closed = false
            defer { groups[group]!.waiting = [] }
            return groups[group]!.waiting
        }
        for waiter in waiting { waiter.resume() }
    }
}
