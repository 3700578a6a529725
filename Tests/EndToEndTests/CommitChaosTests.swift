import Foundation
import ShardCore
import ShardProtocol
import ShardStore
import ShardTestSupport
import Synchronization
import Testing

/// 8 sessions move amounts between accounts on different shards (a debit row on one, a
/// credit row on another, one labelled commit) while the daemon is SIGKILLed and restarted
/// 10 times at random moments, on 2 SQLite + 2 PostgreSQL shards. Afterwards: the amounts sum
/// to zero, every transfer is on the shards whole or not at all, every commit answered ok is
/// there, and `transaction_status` is right for every label sent.
@Suite struct CommitChaosTests {
    /// What a worker knows of one transfer.
    enum Outcome: Sendable { case committed, failed, unknown }

    @Test func transfersSurviveTenKillsWhole() async throws {
        let (config, environment) = try await CommitTests.config(.mixed)
        let first = try Daemon(config: config, environment: environment)
        let directory = first.directory
        let socket = first.socketPath
        let daemon = Mutex<Daemon?>(first)
        let stop = Atomic<Bool>(false)
        let commits = Atomic<Int>(0)
        let shards = CommitTests.Layout.mixed.shards

        // The killer: 10 times, once a few more commits got through (at most 5 s) and then
        // 0-300 ms later, SIGKILL and start again.
        let killer = Thread {
            var generator = SplitMix64(seed: 2026)
            for _ in 0..<10 {
                let before = commits.load(ordering: .relaxed)
                let deadline = Date().addingTimeInterval(5)
                while commits.load(ordering: .relaxed) < before + 5 && Date() < deadline { usleep(5_000) }
                usleep(UInt32(generator.next() % 300_000))
                let dead = daemon.withLock { $0.take() }
                dead?.kill()
                let next = try? Daemon(environment: environment, in: directory, keepConfig: true)
                daemon.withLock { $0 = next }
            }
            stop.store(true, ordering: .relaxed)
        }
        killer.start()

        let records = try await onThreads(8) { worker -> [(transfer: Int, outcome: Outcome)] in
            var generator = SplitMix64(seed: UInt64(worker) + 1)
            var out: [(transfer: Int, outcome: Outcome)] = []
            var client: LineClient?
            var sequence = 0
            while !stop.load(ordering: .relaxed) {
                if client == nil {
                    client = try? LineClient(socketPath: socket, timeoutSeconds: 10)
                    if client == nil { usleep(20_000); continue }
                }
                sequence += 1
                let transfer = worker * 100_000 + sequence
                let from = Int(generator.next() % 4)
                let to = (from + 1 + Int(generator.next() % 3)) % 4
                let amount = Int(generator.next() % 1000) + 1
                do {
                    let debit = try client!.request(#"{"op":"add","model":"Entry","shard":"\#(shards[from])","values":{"id":\#(transfer * 2),"account":"acct\#(from)","amount":\#(-amount)}}"#)
                    let credit = try client!.request(#"{"op":"add","model":"Entry","shard":"\#(shards[to])","values":{"id":\#(transfer * 2 + 1),"account":"acct\#(to)","amount":\#(amount)}}"#)
                    guard debit["ok"] == .bool(true), credit["ok"] == .bool(true) else {
                        _ = try client!.request(#"{"op":"rollback"}"#)
                        continue
                    }
                    // From here the transfer's label may have reached a commit.
                    out.append((transfer, .unknown))
                    let answer = try client!.request(#"{"op":"commit","label":"t\#(transfer)"}"#)
                    out[out.count - 1].outcome = answer["ok"] == .bool(true) ? .committed : .failed
                    if answer["ok"] == .bool(true) { commits.add(1, ordering: .relaxed) }
                } catch {
                    // The daemon died under the request.
                    client = nil
                }
            }
            return out
        }
        while killer.isExecuting { try await Task.sleep(for: .milliseconds(20)) }

        // One last start, after which recovery has run.
        let last = try daemon.withLock { current in
            current?.kill()
            current = nil
            return try Daemon(environment: environment, in: directory, keepConfig: true)
        }
        defer { last.stop() }
        let inspection = try ShardInspection(last)
        var rows: [Int64: Int64] = [:]
        for shard in shards {
            for row in try await inspection.rows(shard, "SELECT id, amount FROM entry", [.int, .int]) {
                if case .int(let id) = row[0], case .int(let amount) = row[1] { rows[id] = amount }
            }
        }
        let all = records.flatMap { $0 }
        #expect(all.filter { $0.outcome == .committed }.count >= 20, "enough transfers got through to mean something: \(all.count) tried")
        #expect(rows.values.reduce(0, +) == 0, "the amounts sum to zero")
        let client = try last.client()
        var wrong = 0
        for (transfer, outcome) in all {
            let debit = rows[Int64(transfer * 2)], credit = rows[Int64(transfer * 2 + 1)]
            let present = debit != nil && credit != nil
            if (debit == nil) != (credit == nil) { Issue.record("transfer \(transfer) is on the shards in part") }
            if outcome == .committed && !present { Issue.record("transfer \(transfer) was answered ok and is not there") }
            if outcome == .failed && present { Issue.record("transfer \(transfer) failed and is there") }
            let status = try client.request(#"{"op":"transaction_status","label":"t\#(transfer)"}"#)["outcome"]
            if status != .string(present ? "committed" : "not_committed") { wrong += 1 }
        }
        #expect(wrong == 0, "transaction_status disagreed with the shards for \(wrong) of \(all.count) labels")
        // Nothing of a commit is left once recovery has run.
        #expect(try await CommitTests.eventuallyNoLeftovers(inspection) == 0)
        #expect(try client.request(#"{"op":"transactions"}"#)["transactions"] == .array([]))
    }
}
