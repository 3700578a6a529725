import ArgumentParser
import ShardClient

/// `shardctl query MODEL`: rows of a model, across the shards the `where` implies.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "List the rows of a model that match a where.",
        discussion: """
            The daemon asks only the shards that --where implies (an = or in on the model's shard \
            key), else all of them, and names the shards it asked. Examples:
              shardctl query WeatherLocation --where '{"continent":"Asia"}' --order-by city
              shardctl query Report --where '[">=","temperature",75]' --limit 10
              shardctl query Report --order-by -temperature,id --shard asia
              shardctl query Report --order-by -temperature,id --page-size 100
            An answer over the daemon's max_result_rows is refused (result_too_large) unless --limit is given. \
            With --page-size, every row comes in pages that follow the daemon's cursors (each page one \
            bounded read per shard, however deep), printed as they come; with --json, one answer per \
            line. --after starts after a page's `next` cursor.
            """
    )

    @Argument(help: ArgumentHelp("The model's name in shards.conf.", valueName: "model"))
    var model: String

    @Option(name: .long, help: ArgumentHelp(
        "Only rows that match this expression: a JSON object of equalities or a prefix array (docs/protocol.md, section 7).",
        valueName: "json"))
    var `where`: String?

    // `.unconditional`: the value may start with `-` (`--order-by -temperature`).
    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Sort by these columns, separated by commas; - before a column for descending (name,-temperature).",
                                            valueName: "columns"))
    var orderBy: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("At most this many objects (applied once, after merging the shards).", valueName: "n"))
    var limit: Int?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Skip this many objects first (after merging the shards).", valueName: "n"))
    var offset: Int?

    @Option(name: .long, help: ArgumentHelp("Ask this shard only, instead of the shards --where implies (repeat or separate with commas for several).",
                                            valueName: "shard"))
    var shard: [String] = []

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Fetch every row in pages of n, following cursors, printing each page as it comes.", valueName: "n"))
    var pageSize: Int?

    @Option(name: .long, help: ArgumentHelp("With --page-size: start after this cursor (a page's next).", valueName: "cursor"))
    var after: String?

    @OptionGroup var options: DaemonOptions

    func validate() throws {
        if let pageSize, pageSize < 1 { throw ValidationError("--page-size must be 1 or more, not \(pageSize).") }
        if pageSize != nil, limit != nil || offset != nil {
            throw ValidationError("--page-size reads every row in pages; it takes no --limit or --offset (stop when you have enough, or use --after to resume).")
        }
        if after != nil, pageSize == nil { throw ValidationError("--after needs --page-size.") }
        if let `where` { _ = try CommandLineValues.predicate(`where`) }
        if let orderBy { _ = try CommandLineValues.ordering(orderBy) }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more, not \(limit).") }
        if let offset, offset < 0 { throw ValidationError("--offset must be 0 or more, not \(offset).") }
        _ = try CommandLineValues.shards(shard)
    }

    func run() async throws {
        let predicate = try `where`.map(CommandLineValues.predicate)
        let ordering = try orderBy.map(CommandLineValues.ordering) ?? []
        let shards = try CommandLineValues.shards(shard)
        if let pageSize {
            try await options.withSession { session in
                var cursor = after
                var page = 0, total = 0
                repeat {
                    let answer = try await session.dynamic.query(model: model, where: predicate, orderBy: ordering, shards: shards,
                                                                 pageSize: pageSize, after: cursor)
                    page += 1
                    total += answer["objects"]?.arrayValue?.count ?? 0
                    cursor = answer["next"]?.stringValue
                    options.print(answer, human: "page \(page)\n" + Self.render(answer) + (cursor.map { "\nnext: \($0)" } ?? ""))
                } while cursor != nil
                if !options.json { Output.line("\(Output.count(total, "object")) in \(Output.count(page, "page"))") }
            }
            return
        }
        try await options.perform({
            try await $0.query(model: model, where: predicate, orderBy: ordering, limit: limit, offset: offset, shards: shards)
        }, human: { answer, _ in Self.render(answer) })
    }

    static func render(_ answer: JSONValue) -> String {
        let objects = answer["objects"]?.arrayValue ?? []
        var columns: [String] = []
        for object in objects {
            for column in object["values"]?.objectValue?.keys ?? [] where !columns.contains(column) { columns.append(column) }
        }
        // Numbers line up on the right when a column holds nothing else.
        let numeric = columns.map { column in
            objects.allSatisfy { object in
                switch object["values"]?[column] {
                case .int?, .double?, .null?, nil: return true
                default: return false
                }
            }
        }
        var table = Table([.init("key")] + zip(columns, numeric).map { .init($0, $1 ? .right : .left) })
        for object in objects {
            table.append([Output.cell(object["key"])] + columns.map { Output.cell(object["values"]?[$0]) })
        }
        let summary = "\(Output.count(objects.count, "object")) from \(Output.shards(Output.names(answer["shards"])))"
        return objects.isEmpty ? summary : table.rendered + "\n" + summary
    }
}
