import ArgumentParser
import ShardClient

/// `shardctl rebalance --plan`: the moves that would make the placement match shards.conf.
struct RebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebalance",
        abstract: "List the moves that make placement match shards.conf.",
        discussion: """
            With --plan: one line per move (group, unit, from, to, rows, children included): map \
            values and ranges to the shard shards.conf names, hash buckets spread evenly over the \
            shards without drain = true. Running the moves is not implemented yet: without --plan \
            the daemon says so and nothing moves.
            """
    )

    @OptionGroup var options: DaemonOptions

    @Flag(name: .long, help: "Only list the moves.")
    var plan = false

    func run() async throws {
        let plan = self.plan
        try await options.perform({ try await $0.rebalance(plan: plan) }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let moves = answer["moves"]?.arrayValue ?? []
        if moves.isEmpty { return "nothing to move: the placement matches shards.conf" }
        var table = Table([.init("group"), .init("unit"), .init("from"), .init("to"), .init("rows", .right)])
        var rows: Int64 = 0
        for move in moves {
            table.append([Output.cell(move["group"]), Output.cell(move["unit"]), Output.cell(move["from"]),
                          Output.cell(move["to"]), Output.cell(move["rows"])])
            rows += move["rows"]?.intValue ?? 0
        }
        return table.rendered + "\n\(moves.count) move\(moves.count == 1 ? "" : "s"), \(rows) rows"
    }
}
