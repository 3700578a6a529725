import ArgumentParser
import ShardClient

/// `shardctl transactions`: cross-shard commits not yet finished on every shard.
struct TransactionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transactions",
        abstract: "List cross-shard commits still waiting for a shard.",
        discussion: """
            One line per transaction: its id, its label, its state (committing), its shards, the \
            shards it still waits for (down when it committed; the daemon finishes them when they \
            answer), and since when. Empty when every commit is finished.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.transactions() }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let list = answer["transactions"]?.arrayValue ?? []
        if list.isEmpty { return "no transaction waits for a shard" }
        var table = Table([.init("txid"), .init("label"), .init("state"), .init("shards"), .init("pending"), .init("since")])
        for item in list {
            let names = { (value: JSONValue?) in value?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? "" }
            table.append([Output.cell(item["txid"]), item["label"]?.stringValue ?? "-", Output.cell(item["state"]),
                          names(item["shards"]), names(item["pending"]), Output.cell(item["since"])])
        }
        return table.rendered
    }
}
