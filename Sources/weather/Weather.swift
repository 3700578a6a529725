import ArgumentParser

/// The weather-report example workload (SQLAlchemy's examples/sharding), played against shardd.
@main
struct Weather: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weather",
        abstract: "The weather-report example workload and load generator for shardd.",
        discussion: "Not usable yet: it needs shardd's socket protocol, which a later version brings."
    )

    func run() throws {
        throw ValidationError("weather has no subcommands yet; see README.md for what works today.")
    }
}
