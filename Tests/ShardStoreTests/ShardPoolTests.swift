import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing
@testable import ShardStore

/// The pool of a real SQLite shard: waiters that are served, time out or are cancelled.
@Suite struct ShardPoolTests {
    let directory = TemporaryDirectory()

    func shard(acquireTimeoutMs: Int) -> Shard {
        Shard.open(ShardSpec(name: "asia", location: .sqlite(path: directory.path + "/asia.db"), poolSize: 1), statementTimeoutMs: acquireTimeoutMs)
    }

    /// Waits (briefly) until `condition` holds.
    func eventually(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(2)) }
        return condition()
    }

    @Test func aServedWaiterStopsItsTimer() async throws {
        let shard = shard(acquireTimeoutMs: 30_000)
        defer { shard.close() }
        let held = try await shard.lease()
        let waiter = Task { try await shard.withConnection { try $0.run(SQLDialect.probe).rows.count } }
        #expect(try await eventually { shard.waiting == (1, 1) }, "one waiter with its timer")
        await held.release()
        #expect(try await waiter.value == 1)
        // It used to sleep out request_timeout_ms (30 s here) for nothing.
        #expect(try await eventually { shard.waiting == (0, 0) }, "\(shard.waiting)")
    }

    @Test func aCancelledWaiterLeavesTheQueueAtOnce() async throws {
        let shard = shard(acquireTimeoutMs: 30_000)
        defer { shard.close() }
        let held = try await shard.lease()
        let waiter = Task { try await shard.withConnection { _ in 1 } }
        #expect(try await eventually { shard.waiting.borrowers == 1 })
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(shard.waiting == (0, 0))
        // The connection goes on serving, and a waiter cancelled before it waits never queues.
        await held.release()
        #expect(try await shard.withConnection { _ in 2 } == 2)
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await shard.withConnection { _ in 3 }
        }
        #expect(try await early.value == 3, "an idle connection is lent even to a cancelled task")
        let held2 = try await shard.lease()
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await shard.withConnection { _ in 4 }
        }
        await #expect(throws: CancellationError.self) { try await late.value }
        #expect(shard.waiting.borrowers == 0)
        await held2.release()
    }

    @Test func aWaiterTimesOutWithTheReason() async throws {
        let shard = shard(acquireTimeoutMs: 50)
        defer { shard.close() }
        let held = try await shard.lease()
        let error = await #expect(throws: BackendError.self) { try await shard.withConnection { _ in 1 } }
        #expect(error?.code == .timeout)
        #expect(error?.message.contains("pool_size 1") == true)
        #expect(shard.waiting == (0, 0))
        await held.release()
    }

    @Test func closingFailsTheWaiters() async throws {
        let shard = shard(acquireTimeoutMs: 30_000)
        let held = try await shard.lease()
        let waiter = Task { try await shard.withConnection { _ in 1 } }
        #expect(try await eventually { shard.waiting.borrowers == 1 })
        shard.close()
        let error = await #expect(throws: BackendError.self) { try await waiter.value }
        #expect(error?.code == .shardUnavailable)
        #expect(try await eventually { shard.waiting == (0, 0) })
        await held.release()
    }
}
