import ShardProtocol

/// A read waiting for the next batch, and how to answer it.
struct BatchedRead: Sendable {
    enum Answer: Sendable {
        /// A task waits for it (`Shard.readBatched`).
        case waiter(CheckedContinuation<QueryResult, Error>)
        /// Kept until asked for (`Shard.readSoon`).
        case pending(PendingRead)
    }

    let statement: Statement
    let answer: Answer

    func resume(with result: Result<QueryResult, Error>) {
        switch answer {
        case .waiter(let continuation): continuation.resume(with: result)
        case .pending(let pending): pending.finish(result)
        }
    }
}

extension Shard {
    /// Reads per batch at most: past 64, storebench's pipeline gains little (99-111k point
    /// selects/s at 64 against 62-78k at 16) and one batch's answers wait for its slowest.
    static let readBatchLimit = 64

    /// Batches running at once on a shard: two, so that a get arriving while one batch is
    /// out waits for the next rather than taking a connection of its own. Measured with 16
    /// sessions x 16 pipelined gets on 2 SQLite + 2 PostgreSQL shards (release builds, in
    /// turns): without batches 14-17k gets/s; batches as many as the pool's 8 connections
    /// 18-23k (most gets still ran alone); two 22-28k; one 23-28k. With a session's gets read
    /// ahead (`Session.readAhead`): two 33-44k, one 35-49k, four 35-39k (six rounds of two and
    /// one, three of four): one's lead is within the noise, and two keep a slow batch from
    /// holding every get of the shard.
    static func readBatchRunners(poolSize: Int) -> Int { min(2, poolSize) }

    /// Runs a statement that only reads, outside any transaction, together with the reads of
    /// other sessions waiting at the same time where the backend batches them
    /// (`SQLDialect.batchesReads`): while `readBatchRunners` batches are out, reads wait, and
    /// the next batch takes them all (`ReadBatchQueue`). Alone, a read runs at once, as
    /// through `withConnection`. Elsewhere it is `withConnection { run }`.
    package func readBatched(_ statement: Statement) async throws -> QueryResult {
        guard dialect.batchesReads else { return try await withConnection { try $0.run(statement) } }
        if batchedReads.withLock({ $0.arrive() }) {
            // This read runs the batch, with whatever waits.
            let others = batchedReads.withLock { $0.take(Shard.readBatchLimit - 1) }
            let results = await runBatch([statement] + others.map(\.statement))
            for (read, result) in zip(others, results.dropFirst()) { read.resume(with: result) }
            handOff()
            return try results[0].get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            // A runner may have stopped since `arrive`: then this read starts one.
            if batchedReads.withLock({ $0.park(BatchedRead(statement: statement, answer: .waiter(continuation))) }) {
                startRunners(1)
            }
        }
    }

    /// Hands reads to the shard's batches (`readBatched`) without waiting for them: each
    /// result waits in its `PendingRead`. The reads join the batches as one, so that they
    /// leave together when no batch is out. Only where `dialect.batchesReads`.
    package func readSoon(_ statements: [Statement]) -> [PendingRead] {
        precondition(dialect.batchesReads, "readSoon is for shards that batch their reads")
        let pending = statements.map { _ in PendingRead() }
        let reads = zip(statements, pending).map { BatchedRead(statement: $0, answer: .pending($1)) }
        startRunners(batchedReads.withLock { $0.park(contentsOf: reads) })
        return pending
    }

    /// How many batches of more than one read this shard sent, and the reads they held.
    package var readBatchCounts: (batches: Int, reads: Int) { readBatchStats.withLock { $0 } }

    /// After a runner's batch: the reads that waited meanwhile go in a task of their own, so
    /// that the runner's own answer does not wait for them.
    private func handOff() {
        let next = batchedReads.withLock { $0.next() }
        if !next.isEmpty { Task { await drain(next) } }
    }

    /// Starts `count` runners the queue has counted as active, each on the reads waiting.
    private func startRunners(_ count: Int) {
        for _ in 0..<count { Task { await drain(batchedReads.withLock { $0.next() }) } }
    }

    /// Runs `batch`, then the batches of reads waiting, until none waits.
    private func drain(_ batch: [BatchedRead]) async {
        var batch = batch
        while !batch.isEmpty {
            let results = await runBatch(batch.map(\.statement))
            for (read, result) in zip(batch, results) { read.resume(with: result) }
            batch = batchedReads.withLock { $0.next() }
        }
    }

    /// One batch on one pooled connection; a failure to get a connection fails each read.
    private func runBatch(_ statements: [Statement]) async -> [Result<QueryResult, Error>] {
        if statements.count > 1 {
            readBatchStats.withLock { $0.batches += 1; $0.reads += statements.count }
        }
        do {
            let results = try await withConnection { connection in connection.runBatch(statements) }
            return results.map { $0.mapError { $0 as Error } }
        } catch {
            return statements.map { _ in .failure(error) }
        }
    }
}
