import ArgumentParser
import Foundation
import ShardClient

/// `shardctl watch MODEL`: the model's committed changes, one line each, as they come.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print the changes to a model's rows as they commit.",
        discussion: """
            Subscribes to the change feed (docs/protocol.md, section 12): every commit of any \\
            session that changes a matching row prints one line, until interrupted (or --count \\
            events). An update prints when the row matched before or after; `matches` says \\
            whether it matches after. Writes through raw sql or outside the daemon are not seen. Examples:
              shardctl watch Report
              shardctl watch Report --where '[">=","temperature",80]' --events insert,update
              shardctl watch WeatherLocation --json --count 1
            A watcher that reads too slowly is ended by the daemon (subscription_overflow, exit 1).
            """
    )

    @Argument(help: ArgumentHelp("The model's name in shards.conf.", valueName: "model"))
    var model: String

    @Option(name: .long, help: ArgumentHelp(
        "Only changes of rows that match this expression (on the model's own columns; no any or has).",
        valueName: "json"))
    var `where`: String?

    @Option(name: .long, help: ArgumentHelp("Only these kinds, separated by commas: insert, update, delete.", valueName: "kinds"))
    var events: String?

    @Option(name: .long, help: ArgumentHelp("Stop after this many events.", valueName: "n"))
    var count: Int?

    @OptionGroup var options: DaemonOptions

    func validate() throws {
        if let `where` { _ = try CommandLineValues.predicate(`where`) }
        _ = try kinds()
        if let count, count < 1 { throw ValidationError("--count must be 1 or more, not \(count).") }
    }

    private func kinds() throws -> Set<ChangeKind>? {
        guard let events else { return nil }
        var kinds: Set<ChangeKind> = []
        for name in events.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let kind = ChangeKind(rawValue: name) else {
                throw ValidationError("--events takes insert, update and delete, separated by commas; not \"\(name)\".")
            }
            kinds.insert(kind)
        }
        guard !kinds.isEmpty else { throw ValidationError("--events names no kind; leave it out for all three.") }
        return kinds
    }

    func run() async throws {
        let predicate = try `where`.map(CommandLineValues.predicate)
        let kinds = try kinds()
        try await options.withSession { session in
            let changes = try await session.dynamic.subscribe(model: model, where: predicate, events: kinds)
            // On stderr, so that stdout holds events only: scripts wait for it before writing.
            FileHandle.standardError.write(Data("watching \(model) (subscription \(changes.subscription)); ^C to stop\n".utf8))
            var seen = 0
            for try await event in changes {
                options.print(event, human: Self.render(event))
                // Each event leaves at once, also into a pipe.
                fflush(nil)
                seen += 1
                if let count, seen >= count { break }
            }
        }
    }

    /// `insert Report [1] on asia  seq 12  {"id":1,...}` (`matches` for an update, `txid` across shards).
    static func render(_ event: JSONValue) -> String {
        let kind = event["event"]?.stringValue ?? "?"
        let key = event["key"]?.arrayValue ?? []
        let model = key.first?.stringValue ?? "?"
        let primaryKey = key.count > 1 ? key[1].description : "?"
        let shard = key.count > 2 ? key[2].stringValue ?? "?" : "?"
        var text = "\(kind) \(model) \(primaryKey) on \(shard)  seq \(Output.cell(event["seq"]))"
        if let matches = event["matches"]?.boolValue { text += matches ? "  matches" : "  no longer matches" }
        if let txid = event["txid"]?.stringValue { text += "  txid \(txid)" }
        return text + "  " + (event["values"]?.description ?? "{}")
    }
}
