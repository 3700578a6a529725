import ArgumentParser
import ShardClient

/// `shardctl stats`: the daemon's counters since it started.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show uptime, requests, latencies, errors, statements.",
        discussion: """
            p50 and p99 are request latencies in microseconds, per op. Errors are counted by code. \
            Statements per shard are those run for clients' requests, not health probes.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.stats() }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let uptime = answer["uptime_s"]?.intValue.map(Output.duration(seconds:)) ?? Output.cell(answer["uptime_s"])
        var sections = [Table.pairs([("uptime", uptime), ("connections", Output.cell(answer["connections"]))])]

        let requests = answer["requests"]?.objectValue ?? [:]
        let latency = answer["latency_us"]?.objectValue ?? [:]
        var ops = requests.keys
        for op in latency.keys where !ops.contains(op) { ops.append(op) }
        var perOp = Table([.init("op"), .init("requests", .right), .init("p50 µs", .right), .init("p99 µs", .right)])
        for op in ops {
            perOp.append([op, requests[op].map(Output.cell) ?? "0", latency[op]?["p50"].map(Output.cell) ?? "-",
                          latency[op]?["p99"].map(Output.cell) ?? "-"])
        }
        sections.append(ops.isEmpty ? "no requests yet" : perOp.rendered)

        let errors = answer["errors"]?.objectValue ?? [:]
        if errors.isEmpty {
            sections.append("no errors")
        } else {
            var byCode = Table([.init("error"), .init("count", .right)])
            for member in errors { byCode.append([member.key, Output.cell(member.value)]) }
            sections.append(byCode.rendered)
        }

        var perShard = Table([.init("shard"), .init("statements", .right), .init("errors", .right)])
        for member in answer["per_shard"]?.objectValue ?? [:] {
            perShard.append([member.key, Output.cell(member.value["statements"]), Output.cell(member.value["errors"])])
        }
        sections.append(perShard.rendered)
        return sections.joined(separator: "\n\n")
    }
}
