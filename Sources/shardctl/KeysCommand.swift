import ArgumentParser
import ShardClient

/// `shardctl keys`: identity keys held by the live sessions' identity maps.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "List the identity keys that live sessions hold.",
        discussion: """
            A key is [model, [primary key values], shard]: the identity of a row that a session             has read or written and keeps in its identity map. The daemon answers at most --limit             keys (1000 when not given).
            """
    )

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Only the keys of this session (see `shardctl sessions`).", valueName: "n"))
    var session: Int64?

    @Option(name: .long, help: ArgumentHelp("Only the keys of this model.", valueName: "model"))
    var model: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("At most this many keys.", valueName: "n"))
    var limit: Int?

    @OptionGroup var options: DaemonOptions

    /// The daemon's limit when none is given (docs/protocol.md).
    static let daemonLimit = 1000

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more, not \(limit).") }
        if let session, session < 0 { throw ValidationError("--session must be a session number (0 or more), not \(session).") }
    }

    func run() async throws {
        try await options.perform({ try await $0.keys(session: session, model: model, limit: limit) }, human: { answer, _ in
            render(answer)
        })
    }

    func render(_ answer: JSONValue) -> String {
        let keys = answer["keys"]?.arrayValue ?? []
        guard !keys.isEmpty else {
            var scope = "live sessions"
            if let session { scope = "session \(session)" }
            return "no identity keys" + (model.map { " of \($0)" } ?? "") + " in " + scope
        }
        var table = Table([.init("session"), .init("key")])
        for entry in keys { table.append([Output.cell(entry["session"]), Output.cell(entry["key"])]) }
        var text = table.rendered
        if keys.count >= (limit ?? Self.daemonLimit) {
            text += "\n(the first \(Output.count(keys.count, "key")); there may be more: raise --limit)"
        }
        return text
    }
}
