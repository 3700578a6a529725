import Logging
import ShardCore
import ShardProtocol
import ShardStore
import Synchronization

/// The jobs of `rebalance` and `move` (protocol.md 9, 13): kept in a `JobStore`, run one at a
/// time in the background, one step after another (`UnitMover`), each phase recorded before
/// its work so that a restart resumes or undoes what was cut short.
package final class JobRunner: Sendable {
    private let store: any JobStore
    private let placementStore: any PlacementStore
    private let jobs: Mutex<[MoveJob]>
    private let logger: Logger
    /// Set at shutdown: a step cut short by it stays in its phase, for the next start.
    private let stopping = Atomic(false)

    /// - Throws: when the stored jobs cannot be read.
    package init(store: any JobStore, placementStore: any PlacementStore, logger: Logger) throws {
        self.store = store
        self.placementStore = placementStore
        self.logger = logger
        jobs = Mutex(try store.load())
    }

    /// `jobs`: every job, or the one numbered `id`.
    func list(_ id: Int?) -> [MoveJob] {
        jobs.withLock { jobs in jobs.filter { id == nil || $0.id == id } }
    }

    /// What the finished moves tell `moved` (at start).
    func departures(into departures: Departures) {
        for job in list(nil) {
            for step in job.steps where step.phase == .done || step.phase == .switched {
                departures.record(group: step.group, units: step.units, left: step.from, to: step.to, rekeyed: job.rekeyed.filter { $0.from.token == step.from })
            }
        }
    }

    /// A new job of `steps`, saved, then run in the background.
    /// - Throws: `bad_request` while another job runs; when it cannot be saved.
    func start(_ kind: MoveJob.Kind, steps: [MoveJob.Step], context: ServerContext) throws -> MoveJob {
        let job = try jobs.withLock { jobs throws -> MoveJob in
            if let running = jobs.first(where: { $0.state == .running }) {
                throw ShardError(.badRequest, "job \(running.id) is still running (jobs shows its progress); start this one when it is done",
                                 details: [("job", .int(Int64(running.id)))])
            }
            let job = MoveJob(id: (jobs.map(\.id).max() ?? 0) + 1, kind: kind, steps: steps, startedAt: ServerContext.now())
            var next = jobs
            next.append(job)
            try store.save(next)
            jobs = next
            return job
        }
        logger.notice("job \(job.id) (\(kind.rawValue)): \(job.moves) moves, \(job.rowsTotal) rows")
        // Detached: a Task made here would inherit the requesting session's event loop as its
        // executor, and the job's work (statements for thousands of rows, its files) would
        // stall every session of that loop.
        Task.detached { await self.run(job.id, context: context) }
        return job
    }

    /// At start, before serving: the rows a cut-short step hides are hidden again (the target's
    /// copies before its switch, the source's rows after it), a switched step's placement is
    /// made sure of; the rest of a running job continues in the background.
    package func resume(context: ServerContext) async {
        guard let job = list(nil).first(where: { $0.state == .running }), let index = job.current else { return }
        let step = job.steps[index]
        do {
            let mover = try UnitMover(context: context, step: step)
            switch step.resumption {
            case .undoThenRun:
                await mover.hideListed(on: mover.target)
            case .cleanUp:
                try await refinish(job, index, mover: mover, context: context)
            case .run, .nothing:
                break
            }
        } catch {
            logger.error("job \(job.id): cannot resume \(step.group) \(step.unitText): \(error)")
        }
        logger.notice("job \(job.id): resuming at \(step.group) \(step.unitText) (\(step.phase.name))")
        Task.detached { await self.run(job.id, context: context) }
    }

    /// The daemon is stopping: the running job is left as it is, and resumed at the next start.
    package func stop() {
        stopping.store(true, ordering: .releasing)
    }

    // MARK: - Running

    private func update(_ id: Int, save: Bool = true, _ change: (inout MoveJob) -> Void) throws {
        try jobs.withLock { jobs in
            guard let index = jobs.firstIndex(where: { $0.id == id }) else { return }
            var next = jobs
            change(&next[index])
            if save { try store.save(next) }
            jobs = next
        }
    }

    private func job(_ id: Int) -> MoveJob? {
        jobs.withLock { jobs in jobs.first { $0.id == id } }
    }

    private func run(_ id: Int, context: ServerContext) async {
        while !stopping.load(ordering: .acquiring), let job = job(id), let index = job.current {
            let step = job.steps[index]
            do {
                try await runStep(index, of: job, context: context)
            } catch _ where stopping.load(ordering: .acquiring) {
                logger.notice("job \(id): stopped with the daemon at \(step.group) \(step.unitText); it resumes at the next start")
                return
            } catch let error as RetryLater {
                logger.warning("job \(id): \(error.reason); trying again in 5 s")
                try? await Task.sleep(for: .seconds(5))
            } catch where self.job(id)?.steps[index].phase == .switched {
                // Switched is never undone: it is finished, however long that takes.
                logger.warning("job \(id): the switch of \(step.group) \(step.unitText) is made; finishing it failed (\(error)); trying again in 5 s")
                try? await Task.sleep(for: .seconds(5))
            } catch {
                let reason = (error as? Undone)?.reason
                    ?? "\(step.group) \(step.unitText) from \(step.from) to \(step.to): \((error as? ShardError)?.message ?? "\(error)")"
                logger.error("job \(id) failed, the move undone: \(reason)")
                try? update(id) { $0.fail(index, because: reason, at: ServerContext.now()) }
                return
            }
        }
        if let job = job(id), job.state == .done {
            logger.notice("job \(id) done: \(job.moves) moves, \(job.rowsCopied) rows copied")
        }
    }

    /// A step that cannot go on now (a shard down during clean-up or undo).
    private struct RetryLater: Error {
        var reason: String
    }

    /// A failed step whose undo is done now: the job fails with the first failure's reason.
    private struct Undone: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    private func runStep(_ index: Int, of job: MoveJob, context: ServerContext) async throws {
        let step = job.steps[index]
        let mover = try UnitMover(context: context, step: step)
        switch step.resumption {
        case .cleanUp:
            try await refinish(job, index, mover: mover, context: context)
            try await cleanUp(mover, index, of: job.id)
            return
        case .undoThenRun:
            guard await mover.undo() else { throw RetryLater(reason: "cannot undo a cut-short move of \(step.group) \(step.unitText) yet") }
            // A step that failed but could not be undone then: undone now, it fails.
            if let reason = job.error { throw Undone(reason: reason) }
        case .run, .nothing:
            break
        }
        let copiedBefore = job.rowsCopied
        mover.progress = { [weak self] rows in try? self?.update(job.id, save: false) { $0.rowsCopied = copiedBefore + rows } }
        context.gate.watch(step.group)
        defer { context.gate.unwatch(step.group) }
        await Self.requestsUnderWayEnd(context)
        try store.clearRekeyed(job: job.id, step: index)
        try update(job.id) { $0.advance(index, to: .copying, at: ServerContext.now()) }
        logger.info("job \(job.id): moving \(step.group) \(step.unitText) from \(step.from) to \(step.to)")
        do {
            try await mover.scaffold()
            try await mover.copy()
            try await mover.catchUpBeforeSwitch()
            await FaultPoint.reach(FaultPoint.moveAfterCopy)
            try await switchOver(mover, index, of: job.id, context: context)
        } catch {
            if self.job(job.id)?.steps[index].phase == .copying, !(await mover.undo()) {
                // The target may still hold hidden copies: the job stays running (a restart
                // hides them again) and the undo is tried until it is done, then the job fails.
                let reason = "\(step.group) \(step.unitText) from \(step.from) to \(step.to): \((error as? ShardError)?.message ?? "\(error)")"
                try? update(job.id) { $0.error = reason }
                throw RetryLater(reason: "the move failed (\(reason)) and cannot be undone yet")
            }
            throw error
        }
        await FaultPoint.reach(FaultPoint.moveAfterSwitch)
        try await cleanUp(mover, index, of: job.id)
    }

    /// Waits (up to request_timeout_ms) for the requests that were under way when the group
    /// started being watched: they routed without the gate, and one still writing at the
    /// switch could write to the source after it.
    static func requestsUnderWayEnd(_ context: ServerContext) async {
        var waiting = context.sessions.compactMap { session in session.requestUnderWay.map { (session, $0) } }
        let deadline = ContinuousClock.now + .milliseconds(context.configuration.server.requestTimeoutMs)
        while !waiting.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(1))
            waiting = waiting.filter { session, number in session.requests < number }
        }
    }

    private func cleanUp(_ mover: UnitMover, _ index: Int, of id: Int) async throws {
        guard await mover.cleanUp() else {
            throw RetryLater(reason: "the move of \(mover.step.group) \(mover.step.unitText) switched; its rows left on \(mover.step.from) (hidden) and its scaffolding cannot be removed yet")
        }
        try update(id) { $0.advance(index, to: .done, at: ServerContext.now()) }
    }

    /// The switch (`UnitMover`'s step 3), tried up to three times when the pause runs out.
    private func switchOver(_ mover: UnitMover, _ index: Int, of id: Int, context: ServerContext) async throws {
        let settings = context.configuration.server
        let group = mover.step.group
        let abort = Session.movedAbort([group])
        // Before the pause: the keys renumbered so far made durable, and the key lists checked
        // (the pause itself only adds what its last catch-up renumbers).
        guard try await mover.listsAreComplete() else {
            throw ShardError(.internal, "the key lists of the move on \(mover.step.from) and \(mover.step.to) do not hold the rows copied; the move is undone")
        }
        var saved = mover.rekeyed.count
        try store.appendRekeyed(mover.rekeyed, job: id, step: index)
        // Known to `moved` from now on; used only once the unit has left the source.
        context.departures.remember(mover.rekeyed)
        try update(id) { $0.rekeyed += mover.rekeyed }
        let listed = saved
        var switchedNow = false
        // A switch that does not happen takes its renumbered keys out of the job again.
        defer { if !switchedNow { try? update(id) { $0.rekeyed.removeLast(min(listed, $0.rekeyed.count)) } } }
        for attempt in 1...3 {
            // Transactions that wrote to the group end, or are rolled back at the timeout.
            let timeout = ContinuousClock.now + .milliseconds(settings.moveSwitchTimeoutMs)
            // The transactions open now, not those begun since: under a steady load one is
            // always open, and waiting for none would wait for the timeout every time.
            var holding = mover.transactionsOnGroup()
            while !holding.isEmpty, ContinuousClock.now < timeout {
                try? await Task.sleep(for: .milliseconds(5))
                holding = holding.filter { $0.session.isOpen($0.transaction, writing: group) }
            }
            for item in holding { item.session.abort(abort) }

            let closed = ContinuousClock.now
            let deadline = closed + .milliseconds(settings.movePauseMs)
            guard await context.gate.close(group, until: deadline) else { continue }
            var switched = false
            defer { if !switched { context.gate.open(group) } }
            // Transactions that wrote to it since, and those asked to end above, end now.
            var late = mover.transactionsOnGroup()
            for item in late { item.session.abort(abort) }
            while !late.isEmpty, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(1))
                late = late.filter { $0.session.isOpen($0.transaction, writing: group) }
            }
            guard late.isEmpty else { continue }
            let drained = ContinuousClock.now
            while try await mover.catchUp() > 0, ContinuousClock.now < deadline {}
            guard ContinuousClock.now < deadline else { continue }
            // The switch: durable in the job file first (a restart finishes from there), then
            // the placement, then what clients see.
            let added = Array(mover.rekeyed[saved...])
            try store.appendRekeyed(added, job: id, step: index)
            saved = mover.rekeyed.count
            try update(id) { job in
                job.steps[index].phase = .switched
                job.rekeyed += added
            }
            try finishSwitch(id, index, mover: mover, rekeyed: added, context: context)
            switched = true
            switchedNow = true
            context.gate.open(group)
            let paused = Self.ms(ContinuousClock.now - closed)
            logger.info("job \(id): switch of \(group) \(mover.step.unitText) (attempt \(attempt)): paused the group \(paused) ms, of which \(Self.ms(drained - closed)) ms for requests to end")
            try? update(id) { $0.steps[index].pauseMs = paused }
            return
        }
        throw ShardError(.timeout, "the switch could not be made within move_pause_ms (\(settings.movePauseMs) ms) in three tries: the unit's writes outpace it, or a transaction on it would not end; raise move_pause_ms, or move it at a quieter time")
    }

    static func ms(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// A step found switched (at start, or again after a failed clean-up): the switch made sure
    /// of (its placement and flips may not have happened if it stopped between the job file
    /// and them), then the source hides exactly the rows still listed there.
    private func refinish(_ job: MoveJob, _ index: Int, mover: UnitMover, context: ServerContext) async throws {
        let step = job.steps[index]
        try finishSwitch(job.id, index, mover: mover, rekeyed: job.rekeyed.filter { $0.from.token == step.from }, context: context)
        await mover.hideListed(on: mover.source)
    }

    /// The switch: the placement names the target (durably, then for every new request), the
    /// target's rows are shown and the source's hidden, and sessions forget the rows' old keys.
    /// Idempotent (also run at start for a step found switched).
    private func finishSwitch(_ id: Int, _ index: Int, mover: UnitMover, rekeyed: [MoveJob.Rekey], context: ServerContext) throws {
        guard let job = job(id) else { return }
        let step = job.steps[index]
        var placement = context.routed.placement
        let rowUnits = step.units.allSatisfy { if case .key = $0 { return true } else { return false } }
        if !rowUnits, !step.units.allSatisfy({ placement.owner(of: $0, in: step.group) == step.to }) {
            placement = placement.moving(step.units, of: step.group, to: step.to)
            try placementStore.save(placement, types: PlacementMap.keyTypes(context.configured))
        }
        context.route(by: placement)
        mover.hide(on: mover.source)
        mover.show(on: mover.target)
        context.departures.record(group: step.group, units: step.units, left: step.from, to: step.to, rekeyed: rekeyed)
        let models = Set(context.configuration.models.filter { context.routed.groups[$0.name] == step.group }.map(\.name))
        for session in context.sessions {
            for key in session.identityMap.keys() where key.token == step.from && models.contains(key.model) {
                session.identityMap.remove(key)
            }
        }
        logger.notice("job \(id): \(step.group) \(step.unitText) switched from \(step.from) to \(step.to) (placement version \(placement.version))")
    }
}
