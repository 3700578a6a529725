import ArgumentParser
import ShardClient

/// `shardctl rebalance [--plan] [--wait]`: the moves that make the placement match shards.conf.
struct RebalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebalance",
        abstract: "Move rows to where shards.conf places them.",
        discussion: """
            One line per move (group, unit, from, to, rows, children included): map values and \
            ranges to the shard shards.conf names, hash buckets spread evenly over the shards \
            without drain = true. Without --plan the moves run online in a background job \
            (shardctl jobs); with --wait this command follows it to the end.
            """
    )

    @OptionGroup var options: DaemonOptions

    @Flag(name: .long, help: "Only list the moves.")
    var plan = false

    @Flag(name: [.customLong("wait"), .customLong("watch")], help: "Follow the job until it ends, with a progress bar on a terminal.")
    var wait = false

    func run() async throws {
        let (plan, wait) = (self.plan, self.wait)
        var failed = false
        try await options.perform({ session in
            let answer = try await session.rebalance(plan: plan)
            guard wait, let number = answer["job"]?.intValue, case .object(var members) = answer else { return answer }
            let final = try await JobsCommand.follow(Int(number), session)
            failed = final["jobs"]?[0]?["state"]?.stringValue == "failed"
            members["jobs"] = final["jobs"]
            return .object(members)
        }, human: { answer, _ in Self.render(answer) })
        if failed { throw ExitStatus.daemonError }
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
        var text = table.rendered + "\n\(moves.count) move\(moves.count == 1 ? "" : "s"), \(rows) rows"
        if let jobs = answer["jobs"] {
            text += "\n" + JobsCommand.render(.object(["jobs": jobs]))
        } else if let job = answer["job"]?.intValue {
            text += "\njob \(job) started: shardctl jobs \(job) --wait follows it"
        }
        return text
    }
}
