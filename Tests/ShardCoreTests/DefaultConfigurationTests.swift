import Foundation
import Testing
import ShardCore
import ShardProtocol

@Suite struct DefaultConfigurationTests {
    @Test func embeddedDefaultEqualsTheRepositoryShardsConf() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try String(contentsOf: root.appendingPathComponent("shards.conf"), encoding: .utf8)
        #expect(DefaultConfiguration.text + "\n" == file)
    }
}
