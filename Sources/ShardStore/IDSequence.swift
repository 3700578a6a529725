import ShardCore
import ShardProtocol
import Synchronization

/// The `sequence` id strategy for one model: ids handed out from blocks reserved durably
/// in a counter table, so they only grow, across restarts and across daemons sharing the
/// counter. Gaps (an unused block at shutdown) are normal; a repeated id never happens.
package final class IDSequence: Sendable {
    package let model: String
    /// Where the counter lives: the state_dir file or a shard (`sequence_shard`).
    package let counter: Shard
    package let blockSize: Int64
    /// The ids reserved but not yet handed out: `next..<limit`.
    private let block: Mutex<(next: Int64, limit: Int64)>
    /// Set once the counter table is known to exist.
    private let tableReady = Atomic<Bool>(false)

    package init(model: String, counter: Shard, blockSize: Int64 = 256) {
        self.model = model
        self.counter = counter
        self.blockSize = blockSize
        self.block = Mutex((1, 1))
    }

    /// `count` fresh ids, contiguous and ascending.
    package func next(_ count: Int = 1) async throws -> ClosedRange<Int64> {
        precondition(count >= 1)
        let wanted = Int64(count)
        if let ids = block.withLock({ b -> ClosedRange<Int64>? in
            guard b.limit - b.next >= wanted else { return nil }
            defer { b.next += wanted }
            return b.next...(b.next + wanted - 1)
        }) {
            return ids
        }
        let size = max(blockSize, wanted)
        let first = try await reserve(size)
        // Keep what this caller does not use, and drop any older remainder, so that ids are
        // handed out in increasing order; never move back below a newer block.
        block.withLock { b in
            if first + wanted > b.next { b = (first + wanted, first + size) }
        }
        return first...(first + wanted - 1)
    }

    /// Makes sure every future id is greater than `value` (ids already on the shards),
    /// so that losing the state file can never repeat an id.
    package func ensureAbove(_ value: Int64) async throws {
        let dialect = counter.dialect
        let model = self.model
        _ = try await counter.withConnection { connection in
            try connection.createIfMissing(IDSequence.createTable(dialect))
            self.tableReady.store(true, ordering: .relaxed)
            return try connection.run(Statement(
                "INSERT INTO shardd_sequences (model, next_id) VALUES (\(dialect.placeholder(1)), \(dialect.placeholder(2))) "
                    + "ON CONFLICT (model) DO UPDATE SET next_id = excluded.next_id "
                    + "WHERE shardd_sequences.next_id < excluded.next_id",
                [.text(model), .int(value + 1)]
            ))
        }
        block.withLock { b in
            if b.next <= value { b = (1, 1) }
        }
    }

    /// Reserves `size` ids in one atomic statement; returns the first.
    private func reserve(_ size: Int64) async throws -> Int64 {
        let dialect = counter.dialect
        let model = self.model
        let shard = counter.name
        return try await counter.withConnection { connection in
            let reserve = Statement(
                "INSERT INTO shardd_sequences (model, next_id) VALUES (\(dialect.placeholder(1)), 1 + \(dialect.placeholder(2))) "
                    + "ON CONFLICT (model) DO UPDATE SET next_id = shardd_sequences.next_id + \(dialect.placeholder(2)) "
                    + "RETURNING next_id - \(dialect.placeholder(2))",
                [.text(model), .int(size)], resultTypes: [.int]
            )
            // The table is made before the first reservation (a shard holding the counter
            // may be new), rather than on a failure, which no backend code tells apart.
            if !self.tableReady.load(ordering: .relaxed) {
                try connection.createIfMissing(IDSequence.createTable(dialect))
                self.tableReady.store(true, ordering: .relaxed)
            }
            let result = try connection.run(reserve)
            guard case .int(let first) = result.rows.first?.first else {
                throw BackendError(.refused, shard: shard, "the id counter returned no row")
            }
            return first
        }
    }

    package static func createTable(_ dialect: SQLDialect) -> String {
        "CREATE TABLE IF NOT EXISTS shardd_sequences (model \(dialect.sqlType(.text)) PRIMARY KEY, next_id \(dialect.sqlType(.int)) NOT NULL)"
    }
}
