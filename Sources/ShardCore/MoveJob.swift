import ShardProtocol

/// A job of `rebalance` or `move` (protocol.md 13): moves run one after another in the
/// background, each step durable (`state_dir/jobs.json`) so that a daemon killed at any point
/// resumes it at start. Pure: the daemon's `JobRunner` does the I/O and records each phase.
package struct MoveJob: Sendable, Equatable {
    package enum Kind: String, Sendable { case rebalance, move }
    package enum State: String, Sendable { case running, done, failed }

    /// Where a step is. Each phase is recorded before its work starts, so that a restart
    /// knows what may be half done (`Step.resume(decided:)`).
    package enum Phase: Sendable, Equatable {
        /// Not started.
        case pending
        /// Scaffolding made, rows being copied into the target (hidden there) and caught up:
        /// nothing clients see has changed.
        case copying
        /// Switched: the unit is the target's (this phase in the job file is the switch's
        /// durable point; the placement follows it); the source's rows, hidden now, and the
        /// scaffolding may still be there.
        case switched
        case done
    }

    /// One move: a unit (or several buckets with the same source and target, moved together
    /// so that a rebalance of a thousand buckets reads each source once) of a placement group.
    package struct Step: Sendable, Equatable {
        package var group: String
        package var units: [PlacementUnit]
        package var from: String
        package var to: String
        /// The group's rows in the units when planned, children included.
        package var rows: Int
        package var phase: Phase = .pending
        /// How long the switch held the group's requests, in milliseconds (once switched).
        package var pauseMs: Int?

        package init(group: String, units: [PlacementUnit], from: String, to: String, rows: Int, phase: Phase = .pending) {
            self.group = group
            self.units = units
            self.from = from
            self.to = to
            self.rows = rows
            self.phase = phase
        }
    }

    /// What a restarted daemon does with a step it finds in a phase.
    package enum Resumption: Sendable, Equatable {
        /// Nothing was started: run it.
        case run
        /// Its rows are where they were; what the move made (scaffolding, hidden copies on the
        /// target) must go, then it runs again from the start.
        case undoThenRun
        /// It switched: the placement must name the target and the source's rows stay hidden
        /// until they and the scaffolding are removed.
        case cleanUp
        case nothing
    }

    package var id: Int
    package var kind: Kind
    package var state: State = .running
    package var steps: [Step]
    package var rowsCopied = 0
    package var startedAt: Timestamp
    package var finishedAt: Timestamp?
    package var error: String?
    /// Rows of `shard_local` models given a new id on their target (protocol.md 13); a key
    /// renumbered twice by a move's catch-up appears twice, the later pair holding.
    package var rekeyed: [Rekey] = []

    package struct Rekey: Sendable, Hashable {
        package var from: IdentityKey
        package var to: IdentityKey
        package init(from: IdentityKey, to: IdentityKey) {
            self.from = from
            self.to = to
        }
    }

    package init(id: Int, kind: Kind, steps: [Step], startedAt: Timestamp) {
        self.id = id
        self.kind = kind
        self.steps = steps
        self.startedAt = startedAt
    }

    /// Units to move (protocol.md 9 `jobs`' `moves`).
    package var moves: Int { steps.reduce(0) { $0 + $1.units.count } }
    package var movesDone: Int { steps.filter { $0.phase == .done }.reduce(0) { $0 + $1.units.count } }
    package var rowsTotal: Int { steps.reduce(0) { $0 + $1.rows } }

    /// The step to work on next: the first not done, while the job runs.
    package var current: Int? {
        guard state == .running else { return nil }
        return steps.firstIndex { $0.phase != .done }
    }

    /// The job after its step `index` reached `phase`; done once every step is.
    package mutating func advance(_ index: Int, to phase: Phase, at now: Timestamp) {
        steps[index].phase = phase
        if phase == .done, steps.allSatisfy({ $0.phase == .done }) {
            state = .done
            finishedAt = now
        }
    }

    /// The job after a step failed and was undone: failed, with why; steps after it not run.
    package mutating func fail(_ index: Int, because reason: String, at now: Timestamp) {
        steps[index].phase = .pending
        state = .failed
        error = reason
        finishedAt = now
    }
}

extension MoveJob {
    /// A plan's moves as job steps: each map value or range alone; buckets of the same group,
    /// source and target together (wherever they are in the plan), up to `bucketsPerStep`,
    /// so that each step reads its source once.
    package static func steps(of moves: [(move: RebalancePlan.Move, rows: Int)]) -> [MoveJob.Step] {
        var steps: [MoveJob.Step] = []
        var open: [String: Int] = [:]  // group, from, to → the step still taking buckets
        for (move, rows) in moves {
            guard case .bucket = move.unit else {
                steps.append(MoveJob.Step(group: move.group, units: [move.unit], from: move.from, to: move.to, rows: rows))
                continue
            }
            let route = [move.group, move.from, move.to].joined(separator: "\u{0}")
            if let index = open[route], steps[index].units.count < bucketsPerStep {
                steps[index].units.append(move.unit)
                steps[index].rows += rows
            } else {
                open[route] = steps.count
                steps.append(MoveJob.Step(group: move.group, units: [move.unit], from: move.from, to: move.to, rows: rows))
            }
        }
        return steps
    }

    package static let bucketsPerStep = 256
}

extension MoveJob.Step {
    /// What a restart does with this step.
    package var resumption: MoveJob.Resumption {
        switch phase {
        case .pending: .run
        case .copying: .undoThenRun
        case .switched: .cleanUp
        case .done: .nothing
        }
    }

    /// `value "Asia"`, `range [0, 100)`, `buckets 3, 7`, for logs and errors.
    package var unitText: String {
        if units.count > 1, case .bucket = units[0] {
            let numbers = units.compactMap { unit -> Int? in if case .bucket(let b) = unit { return b }; return nil }
            return "buckets " + numbers.map(String.init).joined(separator: ", ")
        }
        return units.map(\.text).joined(separator: ", ")
    }
}

extension PlacementUnit {
    /// `value "Asia"`, `range [0, 100)`, `bucket 3`, `key [7]`.
    package var text: String {
        switch self {
        case .value(let value): "value \(value.messageText)"
        case .range(let lower, let upper): "range [\(lower.messageText), \(upper.messageText))"
        case .bucket(let bucket): "bucket \(bucket)"
        case .key(let key): "key [\(key.map(\.messageText).joined(separator: ", "))]"
        }
    }
}
