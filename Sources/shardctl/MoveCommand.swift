import ArgumentParser
import ShardClient

/// `shardctl move MODEL (--value V | --bucket N | --key K) --to SHARD [--wait]`.
struct MoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move",
        abstract: "Move one unit of rows to another shard, online.",
        discussion: """
            The unit is a map value or a value inside a range (--value), a hash bucket (--bucket), \
            or the primary key of a row of a model without shard_by (--key). Rows of child models \
            move with their parents. The move runs in the background as a job: shardctl jobs shows \
            it; with --wait this command follows it to the end. Values are read as JSON when they \
            parse (42, true), else as text (Asia).
            """
    )

    @OptionGroup var options: DaemonOptions

    @Argument(help: "Any model of the placement group.")
    var model: String

    @Option(name: .long, help: "A map value, or a value inside the range to move.")
    var value: String?

    @Option(name: .long, help: "A hash bucket number.")
    var bucket: Int?

    @Option(name: .long, help: "A primary key: 7, or a list such as '[1,\"a\"]' for several columns.")
    var key: String?

    @Option(name: .long, help: "The shard to move to.")
    var to: String

    @Flag(name: [.customLong("wait"), .customLong("watch")], help: "Follow the job until it ends, with a progress bar on a terminal.")
    var wait = false

    func validate() throws {
        guard [value != nil, bucket != nil, key != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --value, --bucket or --key")
        }
    }

    func run() async throws {
        let unit: DynamicSession.MoveUnit
        if let value {
            let values = try CommandLineValues.primaryKey(value)
            guard values.count == 1 else { throw ValidationError("--value takes one value, e.g. Asia or 42") }
            unit = .value(values[0].json)
        } else if let bucket {
            unit = .bucket(bucket)
        } else {
            unit = .key(try CommandLineValues.primaryKey(key!).map(\.json))
        }
        let (model, to, wait) = (self.model, self.to, self.wait)
        var failed = false
        try await options.perform({ session in
            let started = try await session.move(model: model, unit, to: to)
            guard wait, let number = started["job"]?.intValue else { return started }
            let answer = try await JobsCommand.follow(Int(number), session)
            failed = answer["jobs"]?[0]?["state"]?.stringValue == "failed"
            return answer
        }, human: { answer, _ in
            if let jobs = answer["jobs"] { return JobsCommand.render(.object(["jobs": jobs])) }
            return "job \(Output.cell(answer["job"])) started: shardctl jobs \(Output.cell(answer["job"])) --wait follows it"
        })
        if failed { throw ExitStatus.daemonError }
    }
}
