import Foundation
import ShardCore
import ShardProtocol
import ShardTestSupport
import Testing

/// `get`s on a PostgreSQL shard from several pipelining clients go out in batches
/// (docs/protocol.md: libpq's pipeline mode), each answered with its own row.
@Suite struct BatchedGetTests {
    @Test func pipelinedGetsOnAPostgresShardLeaveInBatchesEachWithItsOwnRow() async throws {
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
        let rows = (1...200).map { #"{"id":\#($0),"label":"item \#($0)"}"# }.joined(separator: ",")
        let added = try client.request(#"{"op":"add","model":"Item","rows":[\#(rows)]}"#)
        #expect(try client.request(#"{"op":"commit"}"#)["ok"] == .bool(true))
        guard case .array(let objects)? = added["objects"] else { Issue.record("\(added)"); return }
        let onTwo: [Int64] = objects.compactMap { object in
            guard case .array(let key)? = object["key"], key.count == 3, key[2] == .string("two"),
                  case .array(let pk) = key[1], case .int(let id)? = pk.first else { return nil }
            return id
        }
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
}
