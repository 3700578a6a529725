import ArgumentParser
import Foundation
import Logging
import ShardCore
import ShardStore

/// `shardd migrate [--dry-run]`: the additive changes of config.md "Changing the schema" on
/// every shard: new tables, columns with their server_default, indexes and unique indexes,
/// each shard in one transaction, printing each statement. Anything else is refused before
/// any shard is touched. Safe to run again after a failure: a shard already changed has
/// nothing left to do. Exits 0 when every shard matches the models afterwards, else 1.
struct Migrate {
    var configuration: Configuration
    var dryRun: Bool

    func run() async throws {
        let shards = ShardSet(configuration: configuration)
        defer { shards.close() }
        let statuses = await shards.prepare()
        let down = statuses.filter { $0.error != nil }
        for status in down {
            print("shard \(status.shard.name): \(status.error!.message)")
        }
        guard down.isEmpty else {
            print("migrate: \(down.count) shard\(down.count == 1 ? " is" : "s are") not usable: nothing changed (every shard must answer; run again once \(down.count == 1 ? "it does" : "they do"))")
            throw ExitCode(1)
        }
        let migration = SchemaMigration(shards: shards)
        let inspections: [SchemaMigration.Inspection]
        do {
            inspections = try await migration.inspect()
        } catch {
            print("migrate: \(error)")
            throw ExitCode(1)
        }
        var drifts: [SchemaDrift] = []
        for inspection in inspections {
            switch inspection.drift {
            case .failure(let error):
                print("migrate: shard \(inspection.shard.name): its tables cannot be read: \(error.message); nothing changed")
                throw ExitCode(1)
            case .success(let drift):
                drifts.append(drift)
            }
        }
        let refused = drifts.flatMap(\.refused)
        for note in drifts.flatMap(\.notes) { print("note: \(note)") }
        if !refused.isEmpty {
            for difference in refused { print("refused: \(difference)") }
            print("migrate: \(refused.count) difference\(refused.count == 1 ? "" : "s") that shardd does not change: nothing changed on any shard")
            throw ExitCode(1)
        }
        let changing = zip(inspections, drifts).filter { !$0.1.statements.isEmpty }
        let statementCount = changing.reduce(0) { $0 + $1.1.statements.count }
        guard !changing.isEmpty else {
            try recordApplied(migration)
            print("migrate: every shard (\(drifts.count)) matches the models: nothing to do")
            return
        }
        if dryRun {
            for (inspection, drift) in changing {
                print("shard \(inspection.shard.name) (\(inspection.shard.dialect.backend.rawValue)), in one transaction:")
                for sql in drift.statements { print("  \(sql);") }
            }
            print("migrate --dry-run: \(statementCount) statement\(statementCount == 1 ? "" : "s") on \(changing.count) of \(drifts.count) shards would run; nothing changed")
            return
        }
        var done = 0
        for (inspection, drift) in changing {
            let shard = inspection.shard
            print("shard \(shard.name) (\(shard.dialect.backend.rawValue)):")
            do {
                try await migration.apply(drift, on: shard) { print("  \($0);") }
            } catch {
                print("migrate: shard \(shard.name) failed and was rolled back: \(error)")
                print("migrate: \(done) of \(changing.count) shards changed; run shardd migrate again to finish the others")
                throw ExitCode(1)
            }
            done += 1
            print("  committed")
            if done == 1 && changing.count > 1 { await FaultPoint.reach(FaultPoint.migrateAfterFirstShard) }
        }
        try recordApplied(migration)
        let unchanged = drifts.count - changing.count
        print("migrate: \(statementCount) statement\(statementCount == 1 ? "" : "s") on \(changing.count) shard\(changing.count == 1 ? "" : "s")"
              + (unchanged > 0 ? " (\(unchanged) already matched)" : "") + "; every shard matches the models")
    }

    private func recordApplied(_ migration: SchemaMigration) throws {
        do {
            try migration.recordApplied()
        } catch {
            print("migrate: the shards match, but the models could not be recorded as applied: \(error)")
            throw ExitCode(1)
        }
    }
}
