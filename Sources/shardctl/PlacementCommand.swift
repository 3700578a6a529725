import ArgumentParser
import ShardClient

/// `shardctl placement`: which shard owns each unit of placement, and what shards.conf wants.
struct PlacementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement",
        abstract: "Show which shard owns each value, range and bucket.",
        discussion: """
            One line per placement group (a model with its own shard_by, and the models placed \
            with it): its rule, its column, and its owners (map values and the default `*`, \
            ranges, or buckets per shard). Then every unit whose owner is not the one shards.conf \
            names: rows move only by a move or a rebalance, never by an edit of the file.
            """
    )

    @OptionGroup var options: DaemonOptions

    @Option(name: .long, help: ArgumentHelp("Only this model's group.", valueName: "model"))
    var model: String?

    func run() async throws {
        let model = self.model
        try await options.perform({ try await $0.placement(model: model) }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        var table = Table([.init("group"), .init("models"), .init("rule"), .init("column"), .init("owners")])
        for group in answer["groups"]?.arrayValue ?? [] {
            let models = group["models"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ",") ?? ""
            var owners: String
            switch group["owners"] {
            case .object(let object)?:
                owners = object.map { "\($0.key)=\(Output.cell($0.value))" }.joined(separator: " ")
                if let buckets = group["buckets"] { owners = "\(Output.cell(buckets)) buckets: " + owners }
            case .array(let ranges)?:
                owners = ranges.map { range in
                    let parts = range.arrayValue ?? []
                    return "[\(Output.cell(parts.first)), \(Output.cell(parts.count > 1 ? parts[1] : nil)))=\(Output.cell(parts.last))"
                }.joined(separator: " ")
            default:
                owners = ""
            }
            table.append([Output.cell(group["group"]), models, Output.cell(group["rule"]), Output.cell(group["column"]), owners])
        }
        var lines = ["placement version \(Output.cell(answer["version"]))", table.rendered]
        let differs = answer["differs"]?.arrayValue ?? []
        if differs.isEmpty {
            lines.append("every unit is where shards.conf says")
        } else {
            lines.append("where shards.conf says otherwise (a rebalance would move these):")
            for item in differs {
                if let unit = item["unit"] {
                    lines.append("  \(Output.cell(item["group"])) \(Output.cell(unit)): on \(Output.cell(item["now"])), shards.conf says \(Output.cell(item["wanted"]))")
                } else {
                    lines.append("  \(Output.cell(item["group"])) shard \(Output.cell(item["shard"])): \(Output.cell(item["buckets"])) buckets, an even spread is \(Output.cell(item["wanted"]))")
                }
            }
        }
        return lines.joined(separator: "\n")
    }
}
