import ArgumentParser
import ShardClient

/// `shardctl config`: the configuration the daemon runs with.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the running configuration and its version.",
        discussion: """
            One line per setting: its key path, its value (passwords redacted), and live (a \
            reload applies a change: shardctl reload or SIGHUP), restart (only a restart does), \
            or fixed (the rows depend on it: a model's table, primary key and id).
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.config() }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        var table = Table([.init("setting"), .init("value"), .init("reload")])
        for setting in answer["settings"]?.arrayValue ?? [] {
            table.append([setting["key"]?.stringValue ?? "-", setting["value"]?.stringValue ?? "-", setting["reload"]?.stringValue ?? "-"])
        }
        return "configuration version \(Output.cell(answer["version"])) from \(answer["file"]?.stringValue ?? "-")\n\n" + table.rendered
    }
}
