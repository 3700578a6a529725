import ArgumentParser
import ShardClient

/// `shardctl stats`: the daemon's counters since it started.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show requests, latencies, errors, pools and commits.",
        discussion: """
            p50 and p99 are request latencies in microseconds, per op. Errors are counted by code. \
            Statements per shard are those run for clients' requests, not health probes. Pools: \
            connections open, lent, and borrowers waiting (a pool that keeps borrowers waiting is \
            too small). The same numbers as GET /metrics (docs/operating.md).
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.stats() }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let uptime = answer["uptime_s"]?.intValue.map(Output.duration(seconds:)) ?? Output.cell(answer["uptime_s"])
        var sections = [Table.pairs([
            ("uptime", uptime), ("connections", Output.cell(answer["connections"])),
            ("config_version", Output.cell(answer["config_version"])), ("transactions_open", Output.cell(answer["transactions_open"])),
            ("commits_pending", Output.cell(answer["commits_pending"])), ("slow_clients_disconnected", Output.cell(answer["slow_clients_disconnected"])),
        ])]

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

        var perShard = Table([.init("shard"), .init("statements", .right), .init("errors", .right), .init("up"),
                              .init("pool", .right), .init("open", .right), .init("in use", .right), .init("waiting", .right)])
        let pools = answer["pools"]?.objectValue ?? [:]
        for member in answer["per_shard"]?.objectValue ?? [:] {
            let pool = pools[member.key]
            perShard.append([member.key, Output.cell(member.value["statements"]), Output.cell(member.value["errors"]),
                             pool?["up"] == .bool(false) ? "down" : "up", Output.cell(pool?["size"]), Output.cell(pool?["open"]),
                             Output.cell(pool?["in_use"]), Output.cell(pool?["waiting"])])
        }
        sections.append(perShard.rendered)

        var commits = Table([.init("commits"), .init("outcome"), .init("count", .right)])
        for kind in answer["commits"]?.objectValue ?? [:] {
            for outcome in kind.value.objectValue ?? [:] { commits.append([kind.key, outcome.key, Output.cell(outcome.value)]) }
        }
        sections.append(commits.rendered)
        return sections.joined(separator: "\n\n")
    }
}
