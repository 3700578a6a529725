import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `get`s on a PostgreSQL shard from several pipelining clients go out in batches
/// (docs/protocol.md: libpq's pipeline mode), each answered with its own row.
@Suite struct BatchedGetTests {
    /// A daemon on the mixed layout with `count` items committed, and the ids of those that
    /// the hash put on shard two (PostgreSQL).
    func itemsOnShardTwo(_ count: Int) async throws -> (Daemon, LineClient, [Int64]) {
        // The default pool (8 connections to shard two), of which two batches use two at once.
        let daemon = try Daemon(config: MixedShards.config + """
            [models.Item]
            id = "client"
            shard_by = { column = "id", hash = true }
            [models.Item.columns]
            id = "int"
            label = "text"
            """, environment: try await MixedShards.environment())
        let client = try daemon.client()
        let rows = (1...count).map { #"{"id":\#($0),"label":"item \#($0)"}"# }.joined(separator: ",")
        let added = try client.request(#"{"op":"add","model":"Item","rows":[\#(rows)]}"#)
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        guard case .array(let objects)? = added["objects"] else { throw TestSetupError("add: \(added)") }
        let onTwo: [Int64] = objects.compactMap { object in
            guard case .array(let key)? = object["key"], key.count == 3, key[2] == .string("two"),
                  case .array(let pk) = key[1], case .int(let id)? = pk.first else { return nil }
            return id
        }
        return (daemon, client, onTwo)
    }

    @Test func pipelinedGetsOnAPostgresShardLeaveInBatchesEachWithItsOwnRow() async throws {
        let (daemon, client, onTwo) = try await itemsOnShardTwo(200)
        #expect(onTwo.count > 20, "the hash puts some of 200 items on shard two")

        // 8 clients, each sending every get before reading an answer.
        let socketPath = daemon.socketPath
        let answers = try await onThreads(8) { index -> [JSONValue] in
            let session = try LineClient(socketPath: socketPath)
            let ids = onTwo.shuffled()
            for id in ids { try session.send(#"{"op":"get","model":"Item","pk":\#(id),"shard":"two","fresh":true,"id":\#(id)}"#) }
            return try ids.map { _ in try session.response() }
        }
        for answer in answers.joined() {
            let id = answer["id"]
            #expect(answer["object"]?["values"]?["id"] == id, "\(answer)")
            if case .int(let n)? = id { #expect(answer["object"]?["values"]?["label"] == .string("item \(n)")) }
        }
        #expect(answers.joined().count == 8 * onTwo.count)

        let text = try client.request(#"{"op":"metrics"}"#)["text"]
        guard case .string(let exposition)? = text else { Issue.record("no metrics: \(String(describing: text))"); return }
        let batches = exposition.split(separator: "\n").first { $0.hasPrefix(#"shardd_shard_read_batches_total{shard="two"}"#) }
        let count = batches.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
        #expect(count >= 1, "no batch on shard two: \(batches.map(String.init) ?? "no series")")
        #expect(daemon.stop() == 0)
    }

    /// A pipelining client's gets are read ahead of their turn (docs/protocol.md 4), but never
    /// past a request that is not a get: what a get answers is what it would answer in turn.
    @Test func getsReadAheadNeverPassTheSessionsOwnWrites() async throws {
        let (daemon, client, onTwo) = try await itemsOnShardTwo(100)
        guard onTwo.count >= 3 else { Issue.record("only \(onTwo) on shard two"); return }
        let (a, b, c) = (onTwo[0], onTwo[1], onTwo[2])
        func get(_ id: Int64) -> String { #"{"op":"get","model":"Item","pk":\#(id),"shard":"two","fresh":true}"# }
        let keyB = #"["Item",[\#(b)],"two"]"#

        // One write: the client reads nothing before the last line is sent.
        let session = try LineClient(socketPath: daemon.socketPath)
        var lines = [get(a), get(b), get(c), get(a), get(b)]
        lines += [#"{"op":"update","key":\#(keyB),"values":{"label":"changed"}}"#, #"{"op":"commit"}"#]
        lines += [get(b), get(a), get(b), get(c)]
        lines += [#"{"op":"delete","key":\#(keyB)}"#, #"{"op":"commit"}"#]
        lines += [get(b), get(c), get(b)]
        try session.send(lines.joined(separator: "\n"))
        let answers = try lines.map { _ in try session.response() }
        func label(_ index: Int) -> JSONValue? { answers[index]["object"]?["values"]?["label"] }
        let expected: [JSONValue?] = [.string("item \(a)"), .string("item \(b)"), .string("item \(c)"), .string("item \(a)"), .string("item \(b)"),
                                      nil, nil, .string("changed"), .string("item \(a)"), .string("changed"), .string("item \(c)"),
                                      nil, nil, nil, .string("item \(c)"), nil]
        for (index, want) in expected.enumerated() where want != nil {
            #expect(label(index) == want, "answer \(index) to \(lines[index]): \(answers[index])")
        }
        for index in [5, 6, 11, 12] { #expect(answers[index]["ok"] == .bool(true), "\(lines[index]): \(answers[index])") }
        for index in [13, 15] { #expect(answers[index]["object"] == .null, "deleted, yet: \(answers[index])") }

        let text = try client.request(#"{"op":"metrics"}"#)["text"]
        guard case .string(let exposition)? = text else { Issue.record("no metrics"); return }
        let ahead = exposition.split(separator: "\n").first { $0.hasPrefix("shardd_reads_ahead_total ") }
        #expect((ahead.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0) >= 1,
                "no get was read ahead: \(ahead.map(String.init) ?? "no series")")
        #expect(daemon.stop() == 0)
    }
}
