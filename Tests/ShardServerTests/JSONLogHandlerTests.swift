import Logging
import ShardProtocol
import Synchronization
import Testing
@testable import ShardServer

/// `--log-format json`: one JSON object per line, with ts, level, label, message and the
/// metadata, whatever the message holds.
@Suite struct JSONLogHandlerTests {
    @Test func aLineIsOneObjectWithItsFieldsAndMetadata() throws {
        let line = JSONLogHandler.line(ts: Timestamp(microseconds: 1_764_580_200_123_456), level: .warning, label: "ShardServer",
                                       message: "shard \"asia\" is down\nreconnecting", metadata: ["session": "7", "level": "x", "shards": .array(["a", "b"])])
        #expect(line.hasSuffix("\n") && line.dropLast().contains("\n") == false, "one line: \(line)")
        let json = try JSONValue.parse(Array(line.utf8))
        #expect(json["ts"] == .string("2025-12-01T09:10:00.123456Z"))
        #expect(json["level"] == .string("warning") && json["label"] == .string("ShardServer"))
        #expect(json["message"] == .string("shard \"asia\" is down\nreconnecting"))
        #expect(json["session"] == .string("7") && json["shards"] == .array([.string("a"), .string("b")]))
        // Metadata never shadows the line's own fields.
        #expect(json["meta.level"] == .string("x"))
    }

    @Test func theHandlerWritesOnlyAtItsLevelAndMergesMetadata() throws {
        let lines = Mutex<[String]>([])
        var handler = JSONLogHandler(label: "test", level: .notice) { line in lines.withLock { $0.append(line) } }
        handler[metadataKey: "instance"] = "a1"
        let logger = Logger(label: "test") { _ in handler }
        logger.info("not written")
        logger.error("written", metadata: ["job": "3"])
        let written = lines.withLock { $0 }
        #expect(written.count == 1)
        let json = try JSONValue.parse(Array(written[0].utf8))
        #expect(json["message"] == .string("written") && json["level"] == .string("error"))
        #expect(json["instance"] == .string("a1") && json["job"] == .string("3"))
    }
}
