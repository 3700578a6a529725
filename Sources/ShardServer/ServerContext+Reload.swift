import ShardCore
import ShardProtocol
import ShardStore

/// What a reload did (protocol.md 14).
package enum ReloadOutcome: Sendable, Equatable {
    /// Applied: the new version and the key paths it changed (empty: the file was the same).
    case applied(version: Int, changed: [String])
    /// Nothing applied; the running configuration (of `version`) is kept.
    case refused(version: Int, errors: [String])
}

extension ServerContext {
    /// Reads shards.conf again and applies it, or refuses it as a whole (protocol.md 14);
    /// one reload at a time. Logs one line with the outcome.
    /// - Parameter trigger: how the reload was asked for, for the log (`SIGHUP`, `reload op`).
    package func reload(trigger: String) async -> ReloadOutcome {
        let outcome = await reloading.run { await reloadNow() }
        switch outcome {
        case .applied(let version, let changed) where changed.isEmpty:
            logger.notice("reload (\(trigger)): \(source.description) is unchanged; configuration version \(version) kept")
        case .applied(let version, let changed):
            metrics.count("shardd_config_reloads_total", [("outcome", "ok")])
            logger.notice("reload (\(trigger)): configuration version \(version) applied: \(changed.joined(separator: ", "))")
        case .refused(let version, let errors):
            metrics.count("shardd_config_reloads_total", [("outcome", "refused")])
            logger.error("reload (\(trigger)) refused, configuration version \(version) kept: \(errors.joined(separator: "; "))")
        }
        return outcome
    }

    private func reloadNow() async -> ReloadOutcome {
        let running = routed
        func refuse(_ errors: [String]) -> ReloadOutcome { .refused(version: running.version, errors: errors) }

        let file: Configuration
        do {
            file = try source.load()
        } catch let error as ConfigError {
            return refuse(error.messages)
        } catch {
            return refuse(["\(error)"])
        }
        let change = ConfigChange.between(running.configured, file)
        guard change.refused.isEmpty else { return refuse(change.refused.map(\.description)) }
        guard !change.isEmpty else { return .applied(version: running.version, changed: []) }
        if let job = jobs.list(nil).first(where: { $0.state == .running }) {
            // A move's switch replaces the placement it started from; a reload's new groups
            // would be lost under it.
            return refuse(["job \(job.id) is moving rows: reload once it has finished (shardctl jobs \(job.id) --wait)"])
        }
        let reconciled = PlacementMap.reconcile(stored: running.placement, with: file)
        guard reconciled.problems.isEmpty else { return refuse(reconciled.problems) }
        if let errors = await rowsLeft(on: change.removedShards, models: running.configured.models) { return refuse(errors) }

        let candidate = shards.reloaded(file)
        let added = candidate.shards.filter { change.addedShards.contains($0.name) }
        let failed = await candidate.prepare(added).filter { $0.error != nil }
        guard failed.isEmpty else {
            return refuse(failed.map { "shards.\($0.shard.name): cannot be prepared (\($0.error!.message)); a new shard must answer when it is added" })
        }
        let late: [String]
        switch await migrate(candidate, createTables: file.server.createTables) {
        case .failure(let refusal): return refuse(refusal.errors)
        case .success(let names): late = names
        }

        if reconciled.changed {
            do {
                try PlacementFile(stateDir: file.server.stateDir).save(reconciled.placement, types: PlacementMap.keyTypes(file))
            } catch {
                return refuse(["state_dir/placement.json could not be written: \(error)"])
            }
        }
        shards.adopt(candidate)
        shards.markLate(late)
        for shard in added { watch(shard) }
        let version = reconfigure(file, placement: reconciled.placement)
        return .applied(version: version, changed: change.applied)
    }

    /// Why shards the file removes cannot go: a unit they own is caught by the placement;
    /// this finds rows placed one by one (models without `shard_by`) or left by hand.
    private func rowsLeft(on removed: [String], models: [Model]) async -> [String]? {
        var errors: [String] = []
        for name in removed {
            guard let shard = shards.shard(named: name) else { continue }
            do {
                let counts = try await shards.rowCounts(on: shard, models: models).filter { $0.value > 0 }
                if !counts.isEmpty {
                    let list = counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                    errors.append("shards.\(name): removed, but it still holds rows (\(list)); drain it (drain = true), rebalance, and remove it once shardctl shards shows it empty")
                }
            } catch {
                errors.append("shards.\(name): removed, but it could not be checked for rows (\(error)); remove it once it answers and holds none")
            }
        }
        return errors.isEmpty ? nil : errors
    }

    /// How long a reload's schema change waits for an open transaction's lock (PostgreSQL's
    /// `lock_timeout`, SQLite's busy timeout).
    static let reloadLockTimeoutMs = 2000

    /// Brings every reachable shard of `candidate` up to its models (config.md "Changing
    /// the schema"); the names of shards down now, to prepare when they answer.
    private func migrate(_ candidate: ShardSet, createTables: Bool) async -> Result<[String], ReloadRefusal> {
        let reachable = candidate.shards.filter { !$0.health.isDown }
        let late = candidate.shards.filter { $0.health.isDown }.map(\.name)
        let migration = SchemaMigration(shards: candidate)
        let inspections: [SchemaMigration.Inspection]
        do {
            inspections = try await migration.inspect(reachable)
        } catch {
            return .failure(ReloadRefusal(["the models last applied (state_dir/models.json) could not be read: \(error)"]))
        }
        var errors: [String] = []
        var drifts: [(Shard, SchemaDrift)] = []
        var unreachable = late
        for inspection in inspections {
            switch inspection.drift {
            case .success(let drift): drifts.append((inspection.shard, drift))
            case .failure(let error) where error.cause == .unreachable: unreachable.append(inspection.shard.name)
            case .failure(let error): errors.append("shard \(inspection.shard.name): its tables could not be read: \(error.message)")
            }
        }
        errors += drifts.flatMap { $0.1.refused.map(\.description) }
        if !createTables {
            errors += drifts.flatMap { $0.1.additive.map { "\($0) (create_tables = false: run shardd migrate, then reload)" } }
        }
        guard errors.isEmpty else { return .failure(ReloadRefusal(errors)) }
        for (shard, drift) in drifts where !drift.statements.isEmpty {
            let logger = self.logger
            do {
                try await migration.apply(drift, on: shard, lockTimeoutMs: Self.reloadLockTimeoutMs) { sql in logger.notice("shard \(shard.name): \(sql)") }
            } catch let error as BackendError where error.cause == .timedOut {
                return .failure(ReloadRefusal(["shard \(shard.name): a table to change is locked by an open transaction (a session's: shardctl sessions shows those in a transaction); nothing was applied: reload once it has ended (\(error.message))"]))
            } catch {
                // Each shard changes in one transaction: this one is as it was; shards before
                // it have their additive changes, which a reload after the fix finds made.
                return .failure(ReloadRefusal(["shard \(shard.name): the models' changes failed and were rolled back there (\(error)); nothing was applied: fix it and reload"]))
            }
        }
        if unreachable.isEmpty {
            do {
                try migration.recordApplied()
            } catch {
                return .failure(ReloadRefusal(["state_dir/models.json could not be written: \(error)"]))
            }
        }
        do {
            try await candidate.seedSequences(usable: drifts.map(\.0))
        } catch {
            return .failure(ReloadRefusal(["id sequences: \(error)"]))
        }
        return .success(unreachable)
    }
}

/// The reasons a reload is refused, as an error of `Result`.
struct ReloadRefusal: Error {
    var errors: [String]

    init(_ errors: [String]) {
        self.errors = errors
    }
}
