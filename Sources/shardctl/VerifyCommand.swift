import ArgumentParser
import ShardClient

/// `shardctl verify`: rows on a shard their placement does not name; exits 1 when there are.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Find rows on a shard their placement does not name.",
        discussion: """
            Reads every shard: the rows of each model per shard, then each stray (a row whose \
            placement names another shard, or a child whose parent is not beside it), at most \
            100 listed. Exits 1 when there is a stray.
            """
    )

    @OptionGroup var options: DaemonOptions

    @Option(name: .long, help: ArgumentHelp("Only this model.", valueName: "model"))
    var model: String?

    func run() async throws {
        let model = self.model
        var strays = false
        try await options.perform({ session in
            let answer = try await session.verify(model: model)
            strays = answer["clean"] != .bool(true)
            return answer
        }, human: { answer, _ in Self.render(answer) })
        if strays { throw ExitCode(1) }
    }

    static func render(_ answer: JSONValue) -> String {
        var models: [String] = []
        for case .object(let counts) in (answer["rows"]?.objectValue?.map(\.value) ?? []) {
            for (name, _) in counts where !models.contains(name) { models.append(name) }
        }
        var table = Table([.init("shard")] + models.map { .init($0, .right) })
        for (shard, counts) in answer["rows"]?.objectValue ?? JSONObject([]) {
            table.append([shard] + models.map { Output.cell(counts[$0]) })
        }
        var lines = [table.rendered]
        let count = answer["stray_count"]?.intValue ?? 0
        if count == 0 {
            lines.append("\(Output.cell(answer["checked"])) rows checked: every row is where its placement says")
        } else {
            lines.append("\(Output.cell(answer["checked"])) rows checked, \(count) stray\(count == 1 ? "" : "s"):")
            for stray in answer["strays"]?.arrayValue ?? [] {
                let wanted = stray["wanted"].flatMap(\.stringValue).map { "its placement says \($0)" } ?? "no placement names it here (a null key, or its parent is elsewhere)"
                lines.append("  \(Output.cell(stray["key"])): on \(Output.cell(stray["shard"])), \(wanted)")
            }
            if count > Int64(answer["strays"]?.arrayValue?.count ?? 0) { lines.append("  ...") }
        }
        return lines.joined(separator: "\n")
    }
}
