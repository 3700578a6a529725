import ArgumentParser
import Foundation
import ShardClient

/// `shardctl shards`: every shard probed live.
struct ShardsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shards",
        abstract: "List the shards: status, latency, rows, pool, URL.",
        discussion: """
            The daemon probes every shard while answering. Latency is that of a `SELECT 1`; rows \
            are counted per model (committed rows only); pool is connections in use / pool size. \
            URLs come with their password redacted.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.shards() }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let shards = answer["shards"]?.arrayValue ?? []
        // One column per model, in the order the daemon lists them.
        var models: [String] = []
        for shard in shards {
            for model in shard["rows"]?.objectValue?.keys ?? [] where !models.contains(model) { models.append(model) }
        }
        var table = Table([.init("name"), .init("backend"), .init("status"), .init("latency", .right)]
            + models.map { .init($0, .right) } + [.init("pool", .right), .init("url")])
        for shard in shards {
            let latency = shard["latency_ms"]?.doubleValue.map { String(format: "%.2f ms", $0) } ?? "-"
            let rows = models.map { model in shard["rows"]?[model].map(Output.cell) ?? "-" }
            let pool = shard["pool"].map { "\(Output.cell($0["in_use"]))/\(Output.cell($0["size"]))" } ?? "-"
            table.append([Output.cell(shard["name"]), Output.cell(shard["backend"]), Output.cell(shard["status"]), latency]
                + rows + [pool, Output.cell(shard["url"])])
        }
        let down = shards.filter { $0["status"]?.stringValue == "down" }.count
        var text = table.rendered
        if down > 0 {
            text += "\n\(down) of \(Output.count(shards.count, "shard")) down: requests that need \(down == 1 ? "it" : "them") fail with shard_unavailable until the daemon reconnects"
        }
        return text
    }
}
