import ArgumentParser

/// The admin CLI. Its subcommands arrive with the daemon's protocol (issue: the users' side).
@main
struct ShardCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardctl",
        abstract: "Inspect a running shardd (shards, sessions, identity keys, stats).",
        discussion: "Not usable yet: shardd does not serve its socket protocol in this version."
    )

    func run() throws {
        throw ValidationError("shardctl has no subcommands yet; see README.md for what works today.")
    }
}
