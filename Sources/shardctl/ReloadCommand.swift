import ArgumentParser
import ShardClient

/// `shardctl reload`: the daemon reads shards.conf again (as on SIGHUP).
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Read shards.conf again and apply what changed.",
        discussion: """
            Prints the configuration's new version and each key path applied, or, when the file \
            has a mistake or a change that needs a restart, each refused key path and why (exit \
            status 1); then the daemon keeps its running configuration. Sessions and open \
            transactions carry on either way. docs/operating.md lists what applies live.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.reload() }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let version = Output.cell(answer["version"])
        let changed = answer["changed"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if changed.isEmpty { return "shards.conf is unchanged: configuration version \(version)" }
        return "configuration version \(version) applied:\n" + changed.map { "  \($0)" }.joined(separator: "\n")
    }
}
