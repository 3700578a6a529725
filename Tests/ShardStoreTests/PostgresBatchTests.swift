import Foundation
import ShardCore
import ShardProtocol
@testable import ShardStore
import ShardTestSupport
import Testing

/// Reads sent together in libpq's pipeline mode (`PostgresConnection.runBatch`) and batched
/// across callers (`Shard.readBatched`), against the real server of scripts/postgres.sh.
@Suite("PostgreSQL batched reads")
struct PostgresBatchTests {
    static let select = "SELECT v, 100 / v AS q FROM batch_rows WHERE id = $1"

    static func rows(_ db: PostgresTestDatabase, count: Int) async throws {
        try await db.execute("CREATE TABLE batch_rows (id BIGINT PRIMARY KEY, v BIGINT)")
        // v = id, except row 3 whose v is 0: 100 / v fails there (division by zero).
        try await db.execute("INSERT INTO batch_rows SELECT i, CASE WHEN i = 3 THEN 0 ELSE i END FROM generate_series(1, \(count)) AS i")
    }

    static func statement(_ id: Int) -> Statement {
        Statement(select, [.int(Int64(id))], resultTypes: [.int, .int])
    }

    @Test("a batch answers each read in order; one that fails leaves the others' answers right")
    func aBatchAnswersEachReadInOrder() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            try await Self.rows(db, count: 10)
            let ids = [5, 1, 3, 9, 2, 42, 7]
            let results = try await db.shard.withConnection { connection in
                connection.runBatch(ids.map(Self.statement))
            }
            #expect(results.count == ids.count)
            for (id, result) in zip(ids, results) {
                switch (id, result) {
                case (3, .failure(let error)):
                    #expect(error.backendCode == "22012", "division by zero: \(error)")
                case (42, .success(let answer)):
                    #expect(answer.rows.isEmpty)
                case (_, .success(let answer)):
                    #expect(answer.rows == [[.int(Int64(id)), .int(Int64(100 / id))]], "read \(id)")
                default:
                    Issue.record("read \(id): \(result)")
                }
            }
            // The connection is back out of pipeline mode and in step: a plain statement works.
            let after = try await db.shard.withConnection { try $0.run(Self.statement(2)) }
            #expect(after.rows == [[.int(2), .int(50)]])
            #expect(db.shard.poolUse.open == 1, "the connection was not dropped")
        }
    }

    @Test("a batch whose prepared statement was deallocated behind the cache prepares it again")
    func aDeallocatedStatementIsPreparedAgain() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            try await Self.rows(db, count: 10)
            let results = try await db.shard.withConnection { connection -> [Result<QueryResult, BackendError>] in
                _ = try connection.run(Self.statement(1))
                try connection.execute("/* hidden */ DEALLOCATE ALL")
                return connection.runBatch([Self.statement(4), Self.statement(5)])
            }
            #expect(results.map { try? $0.get().rows } == [[[.int(4), .int(25)]], [[.int(5), .int(20)]]])
        }
    }

    @Test("concurrent reads on a pool of one leave in batches, each with its own answer")
    func concurrentReadsLeaveInBatches() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            try await Self.rows(db, count: 200)
            let ids = Array(1...200).filter { $0 != 3 }
            let answers = try await withThrowingTaskGroup(of: (Int, [[ShardValue]]).self) { group in
                for id in ids {
                    group.addTask { (id, try await db.shard.readBatched(Self.statement(id)).rows) }
                }
                var all: [Int: [[ShardValue]]] = [:]
                for try await (id, rows) in group { all[id] = rows }
                return all
            }
            for id in ids { #expect(answers[id] == [[.int(Int64(id)), .int(Int64(100 / id))]], "read \(id)") }
            let counts = db.shard.readBatchCounts
            #expect(counts.batches >= 1, "with one connection busy, waiting reads went out together")
            #expect(counts.reads > counts.batches)
            #expect(db.shard.poolUse.inUse == 0)
            let failed = await #expect(throws: BackendError.self) { try await db.shard.readBatched(Self.statement(3)) }
            #expect(failed?.backendCode == "22012")
        }
    }

    @Test("a batch on a connection whose backend was terminated fails as unavailable, and the next read works")
    func aLostConnectionFailsTheBatch() async throws {
        try await PostgresTestDatabase.with(poolSize: 2) { db in
            try await Self.rows(db, count: 10)
            let lease = try await db.shard.lease()
            // Prepared first, so that the batch after the termination meets the lost
            // connection in the pipeline, not in PQprepare.
            let pid = try await lease.run { connection in
                _ = connection.runBatch([Self.statement(1), Self.statement(2)])
                return try connection.run(Statement("SELECT pg_backend_pid()", resultTypes: [.int])).rows[0][0]
            }
            let terminated = try await db.run("SELECT pg_terminate_backend($1::int4)", [pid], [.bool])
            #expect(terminated.rows == [[.bool(true)]])
            let (results, broken) = try await lease.run { connection -> ([Result<QueryResult, BackendError>], Bool) in
                var results: [Result<QueryResult, BackendError>] = []
                for _ in 0..<50 {
                    // The server may not have closed the socket yet: try until the batch fails.
                    results = connection.runBatch([Self.statement(1), Self.statement(2), Self.statement(4)])
                    if results.contains(where: { if case .failure = $0 { true } else { false } }) { break }
                    usleep(20_000)
                }
                return (results, connection.isBroken)
            }
            await lease.release()
            #expect(results.count == 3)
            for result in results {
                if case .failure(let error) = result { #expect(error.code == .shardUnavailable, "\(error)") } else { Issue.record("a read of a lost connection answered: \(result)") }
            }
            #expect(broken)
            let again = try await db.shard.readBatched(Self.statement(2))
            #expect(again.rows == [[.int(2), .int(50)]])
        }
    }

    @Test("reads handed over without waiting (readSoon) keep their answers until asked, in any order")
    func readsHandedOverKeepTheirAnswers() async throws {
        try await PostgresTestDatabase.with(poolSize: 1) { db in
            try await Self.rows(db, count: 20)
            let ids = [4, 3, 11, 20, 7]
            let pending = db.shard.readSoon(ids.map(Self.statement))
            #expect(pending.count == ids.count)
            // Asked last first: the first answers wait in their reads meanwhile.
            for (id, read) in zip(ids, pending).reversed() {
                if id == 3 {
                    await #expect(throws: BackendError.self) { try await read.value() }
                } else {
                    #expect(try await read.value().rows == [[.int(Int64(id)), .int(Int64(100 / id))]], "read \(id)")
                }
            }
            // Asked again, a read answers the same.
            #expect(try await pending[0].value().rows == [[.int(4), .int(25)]])
            let (batches, reads) = db.shard.readBatchCounts
            #expect(batches >= 1 && reads >= ids.count, "one batch carried them: \(batches) batches, \(reads) reads")
        }
    }
}
