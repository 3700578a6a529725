import ArgumentParser
import ShardClient

/// `shardctl count MODEL`: how many rows match, in total and per shard.
struct CountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "Count the rows of a model, in total and per shard.",
        discussion: """
            Only the shards that --where implies are asked (see `shardctl query --help`). Example:
              shardctl count Report --where '["between","temperature",60,80]'
            """
    )

    @Argument(help: ArgumentHelp("The model's name in shards.conf.", valueName: "model"))
    var model: String

    @Option(name: .long, help: ArgumentHelp(
        "Only rows that match this expression: a JSON object of equalities or a prefix array (docs/protocol.md, section 7).",
        valueName: "json"))
    var `where`: String?

    @Option(name: .long, help: ArgumentHelp("Count on this shard only (repeat or separate with commas for several).", valueName: "shard"))
    var shard: [String] = []

    @OptionGroup var options: DaemonOptions

    func validate() throws {
        if let `where` { _ = try CommandLineValues.predicate(`where`) }
        _ = try CommandLineValues.shards(shard)
    }

    func run() async throws {
        let predicate = try `where`.map(CommandLineValues.predicate)
        let shards = try CommandLineValues.shards(shard)
        try await options.perform({ try await $0.count(model: model, where: predicate, shards: shards) }, human: { answer, _ in
            Self.render(answer)
        })
    }

    static func render(_ answer: JSONValue) -> String {
        let perShard = answer["per_shard"]?.objectValue ?? [:]
        var names = Output.names(answer["shards"])
        for name in perShard.keys where !names.contains(name) { names.append(name) }
        var table = Table([.init("shard"), .init("count", .right)])
        for name in names { table.append([name, perShard[name].map(Output.cell) ?? "0"]) }
        table.append(["total", Output.cell(answer["count"])])
        return table.rendered
    }
}
