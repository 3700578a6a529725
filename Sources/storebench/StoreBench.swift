import ArgumentParser
import Foundation
import ShardCore
import ShardProtocol
import ShardStore

/// Point-select and batched-insert rates of the shard backends, for scripts/bench.sh store.
@main
struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storebench",
        abstract: "Measure the shard backends: batched insert and point select by primary key.",
        discussion: "Prints one JSON object per measurement on stdout; scripts/bench.sh store runs it beside the sqlite3 and psql clients."
    )

    @Option(help: "sqlite:PATH or a postgresql:// URI.")
    var url: String

    @Option(help: "Rows to insert in one transaction.")
    var rows = 100_000

    @Option(help: "Point selects to run.")
    var selects = 100_000

    mutating func run() async throws {
        let location: ShardLocation = url.hasPrefix("sqlite:") ? .sqlite(path: String(url.dropFirst(7))) : .postgres(uri: url)
        let shard = Shard.open(ShardSpec(name: "bench", location: location, poolSize: 1))
        defer { shard.close() }
        let model = Model(
            name: "Report", table: "bench_reports",
            columns: [
                Column(name: "id", type: .int, nullable: false),
                Column(name: "location_id", type: .int, nullable: false, index: true),
                Column(name: "temperature", type: .real),
                Column(name: "report_time", type: .timestamp),
            ],
            primaryKey: ["id"], id: .client, shardBy: nil
        )
        let dialect = shard.dialect
        let rowCount = rows
        let selectCount = selects
        let p = (1...4).map(dialect.placeholder)

        try await shard.withConnection { connection in
            try connection.execute("DROP TABLE IF EXISTS bench_reports")
            for sql in dialect.createStatements(for: model) { try connection.execute(sql) }
        }

        // Batched insert: one prepared INSERT per row, all in one transaction.
        let insertSeconds = try await shard.withConnection { connection -> Double in
            let insert = "INSERT INTO bench_reports (id, location_id, temperature, report_time) VALUES (\(p[0]), \(p[1]), \(p[2]), \(p[3]))"
            let start = DispatchTime.now()
            try connection.inTransaction {
                for i in 1...rowCount {
                    _ = try connection.run(Statement(insert, [
                        .int(Int64(i)), .int(Int64(i % 1000)), .real(Double(i % 100)),
                        .timestamp(Timestamp(microseconds: 1_795_253_400_000_000 + Int64(i))),
                    ]))
                }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        }
        report("batched_insert", count: rowCount, seconds: insertSeconds)

        let select = Statement(
            "SELECT id, location_id, temperature, report_time FROM bench_reports WHERE id = \(p[0])",
            resultTypes: [.int, .int, .real, .timestamp]
        )
        // Point selects on one connection, no hops: what the backend itself costs.
        let selectSeconds = try await shard.withConnection { connection -> Double in
            var generator = SplitMix64(seed: 42)
            let start = DispatchTime.now()
            for _ in 0..<selectCount {
                var statement = select
                statement.params = [.int(Int64(generator.next() % UInt64(rowCount)) + 1)]
                guard try connection.run(statement).rows.count == 1 else { throw ValidationError("a row is missing") }
            }
            return Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        }
        report("point_select", count: selectCount, seconds: selectSeconds)

        // SQLite only (PostgreSQL reads never run inline): the same through the pool on this
        // thread, one `readInline` per select, the daemon's path for a get (a connection lent
        // and given back, the inline budget set and cleared); then the same with the thread
        // idle 60 µs before each select, as the daemon's is between one client's requests, only
        // the selects timed. What the idle thread's cold caches add is part of a get's floor
        // that a tight loop hides.
        if shard.readsInline {
            var generator = SplitMix64(seed: 11)
            func inlineSelect() async throws -> UInt64 {
                var statement = select
                statement.params = [.int(Int64(generator.next() % UInt64(rowCount)) + 1)]
                let bound = statement
                let started = DispatchTime.now().uptimeNanoseconds
                if try await shard.readInline(until: started + 500_000, { try $0.run(bound) }) == nil {
                    _ = try await shard.withConnection { try $0.run(bound) }
                }
                return DispatchTime.now().uptimeNanoseconds - started
            }
            let inlineStart = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<selectCount { _ = try await inlineSelect() }
            report("point_select_inline", count: selectCount,
                   seconds: Double(DispatchTime.now().uptimeNanoseconds - inlineStart) / 1e9)
            var idleSpent: UInt64 = 0
            let idleCount = min(selectCount, 20_000)
            for _ in 0..<idleCount {
                usleep(60)
                idleSpent += try await inlineSelect()
            }
            report("point_select_inline_after_idle", count: idleCount, seconds: Double(idleSpent) / 1e9)
        }

        // The same through the pool, one withConnection per select: adds the queue hop.
        var generator = SplitMix64(seed: 7)
        let pooledCount = min(selectCount, 20_000)
        let start = DispatchTime.now()
        for _ in 0..<pooledCount {
            var statement = select
            statement.params = [.int(Int64(generator.next() % UInt64(rowCount)) + 1)]
            let bound = statement
            _ = try await shard.withConnection { try $0.run(bound) }
        }
        report("point_select_pooled", count: pooledCount,
               seconds: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9)

        // PostgreSQL: the same selects on one connection in libpq's pipeline mode, `depth` at a
        // time (issue 19's target 4 measures this before choosing how the daemon drives it).
        if case .postgres(let uri) = location {
            let probe = PipelineProbe(uri: uri, sql: select.sql, rowCount: rowCount)
            let pipelined = min(selectCount, 20_000)
            for (depth, seconds) in try probe.run(selects: pipelined, depths: [1, 16, 64]) {
                report("pipeline_select_depth_\(depth)", count: pipelined, seconds: seconds)
            }
        }

        try await shard.withConnection { try $0.execute("DROP TABLE IF EXISTS bench_reports") }
    }

    private func report(_ name: String, count: Int, seconds: Double) {
        let backend = url.hasPrefix("sqlite:") ? "sqlite" : "postgres"
        print("{\"client\":\"shardd-store\",\"backend\":\"\(backend)\",\"workload\":\"\(name)\",\"count\":\(count),\"seconds\":\(seconds),\"per_second\":\(Int(Double(count) / seconds))}")
    }
}

