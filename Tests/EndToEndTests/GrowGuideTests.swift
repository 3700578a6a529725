import Foundation
import ShardTestSupport
import Testing

/// docs/moves.md, "Growing a deployment": `examples/grow.sh` run as a newcomer would, on a
/// PostgreSQL schema of its own, and its commands are the guide's.
@Suite struct GrowGuideTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theGuideRunsAsWrittenWithTheLoadRunningThroughEachRebalance() async throws {
        let directory = TemporaryDirectory()
        let binaries = URL(fileURLWithPath: Daemon.binary).deletingLastPathComponent().path
        let run = try Process.output(of: Self.repository.path + "/examples/grow.sh", [directory.path + "/grow"],
                                     environment: ["SHARDD_BIN": binaries, "SHARDD_GROW_PG_URL": try await TestPostgres.freshSchemaURL(),
                                                   "SHARDD_SOCKET": ""])
        #expect(run.status == 0, "\(run.output)")
        let out = run.stdout
        #expect(out.components(separatedBy: "every row is where its placement says").count == 3, "\(out)")
        #expect(out.contains("WeatherLocation Europe: on europe, shards.conf says pg"), "\(out)")
        #expect(out.components(separatedBy: "weather load during the rebalance").count == 3, "\(out)")
        // The last shards table: europe and south_america empty, pg with both continents.
        let table = out.components(separatedBy: "name           backend").last ?? ""
        let rows = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.first { $0.first == "europe" }?[5] == "0" && rows.first { $0.first == "south_america" }?[5] == "0", "\(table)")
        #expect(rows.first { $0.first == "pg" }?[5] == "200", "\(table)")

        // Every command of the guide is the script's.
        let guide = try String(contentsOf: Self.repository.appendingPathComponent("docs/moves.md"), encoding: .utf8)
        let script = try String(contentsOf: Self.repository.appendingPathComponent("examples/grow.sh"), encoding: .utf8)
        let section = guide.components(separatedBy: "## Growing a deployment")[1].components(separatedBy: "## How a move works")[0]
        let blocks = section.components(separatedBy: "```sh\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        let commands = blocks.dropFirst().flatMap { $0.split(separator: "\n").map(String.init) }
        #expect(commands.count > 15)
        for command in commands where !command.hasPrefix("\"$bin/shardd\"") {
            #expect(script.contains(command), "docs/moves.md has \(command), examples/grow.sh does not")
        }
        #expect(script.contains(#""$bin/shardd" --config shards.conf >> shardd.log 2>&1 &"#))
    }
}
