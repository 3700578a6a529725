import ArgumentParser
import ShardClient

/// `shardctl sessions`: the daemon's live sessions.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the live sessions and what each one holds.",
        discussion: """
            One line per connection: its session number, the peer's pid and uid (from the kernel),             when it connected, whether it has a transaction open, how many identity keys its map             holds, and how many requests it sent. shardctl's own connection is a session too; it             is marked with * after its number.
            """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        try await options.perform({ try await $0.sessions() }, human: { answer, session in
            Self.render(answer, own: session.server.session)
        })
    }

    static func render(_ answer: JSONValue, own: Int64) -> String {
        var table = Table([.init("session"), .init("pid", .right), .init("uid", .right), .init("connected_at"),
                           .init("in_transaction"), .init("identity_keys", .right), .init("requests", .right)])
        for session in answer["sessions"]?.arrayValue ?? [] {
            let number = Output.cell(session["session"]) + (session["session"]?.intValue == own ? "*" : "")
            let inTransaction = session["in_transaction"]?.boolValue.map { $0 ? "yes" : "no" } ?? Output.cell(session["in_transaction"])
            table.append([number, Output.cell(session["pid"]), Output.cell(session["uid"]), Output.cell(session["connected_at"]),
                          inTransaction, Output.cell(session["identity_keys"]), Output.cell(session["requests"])])
        }
        return table.rendered
    }
}
