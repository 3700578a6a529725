import ArgumentParser
import ShardClient

/// `shardctl get MODEL PK`: one row by primary key.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show one row by primary key.",
        discussion: """
            PK is a JSON value, or a list of values for a composite key; a word that is not JSON \
            is taken as a string. Examples:
              shardctl get Report 1 --shard asia
              shardctl get Station '"OSL"'      (or: shardctl get Station OSL)
              shardctl get Reading '[7,"2026-11-21T09:30:00Z"]'
            Without --shard every shard is asked; a key found on several shards is the error \
            ambiguous_identity, and --shard then chooses one. A negative number needs -- before it: \
            shardctl get Report -- -1. A row that does not exist is not an error (exit status 0).
            """
    )

    @Argument(help: ArgumentHelp("The model's name in shards.conf.", valueName: "model"))
    var model: String

    @Argument(help: ArgumentHelp("The primary key: a JSON scalar or list, e.g. 7, '\"OSL\"', '[1,\"a\"]'.", valueName: "pk"))
    var pk: String

    @Option(name: .long, help: ArgumentHelp("Read this shard only.", valueName: "shard"))
    var shard: String?

    @OptionGroup var options: DaemonOptions

    func validate() throws {
        _ = try CommandLineValues.primaryKey(pk)
        if shard?.isEmpty == true { throw ValidationError("--shard needs a shard name (see `shardctl shards`).") }
    }

    func run() async throws {
        let primaryKey = try CommandLineValues.primaryKey(pk)
        try await options.perform({ try await $0.get(model: model, primaryKey: primaryKey, shard: shard) }, human: { answer, _ in
            guard let object = answer["object"], !object.isNull else {
                let shown = primaryKey.count == 1 ? primaryKey[0].description : "[\(primaryKey.map(\.description).joined(separator: ","))]"
                return "no \(model) with pk \(shown)" + (shard.map { " on shard \($0)" } ?? "")
            }
            var pairs = [("key", Output.cell(object["key"]))]
            for member in object["values"]?.objectValue ?? [:] { pairs.append((member.key, Output.cell(member.value))) }
            return Table.pairs(pairs)
        })
    }
}
