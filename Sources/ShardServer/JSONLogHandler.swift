import Glibc
import Logging
import ShardProtocol

/// `shardd --log-format json`: one JSON object per line on standard error, for log shippers:
/// `{"ts": "2026-12-01T09:30:00.123456Z", "level": "warning", "label": "ShardServer",
/// "message": "...", ...metadata}` (metadata keys as given; a key that would shadow `ts`,
/// `level`, `label` or `message` is written as `meta.<key>`).
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    /// - Parameter write: takes each line (with its newline); standard error by default.
    package init(label: String, level: Logger.Level, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                     source: String, file: String, function: String, line: UInt) {
        var merged = metadata
        if let explicit { merged.merge(explicit) { $1 } }
        write(Self.line(ts: Timestamp.wallClock(), level: level, label: label, message: message.description, metadata: merged))
    }

    static let reserved: Set<String> = ["ts", "level", "label", "message"]

    /// One log line: the JSON object and a newline.
    package static func line(ts: Timestamp, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var members: [(String, JSONValue)] = [("ts", .string(ts.description)), ("level", .string(level.rawValue)),
                                               ("label", .string(label)), ("message", .string(message))]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            members.append((reserved.contains(key) ? "meta." + key : key, json(value)))
        }
        return JSONValue.object(JSONObject(members)).serialized + "\n"
    }

    private static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let item): .string(item.description)
        case .array(let items): .array(items.map(json))
        case .dictionary(let items): .object(JSONObject(items.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }

    /// Whole lines to standard error in one write each, so that lines from several threads
    /// never interleave.
    package static let standardError: @Sendable (String) -> Void = { line in
        Array(line.utf8).withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
