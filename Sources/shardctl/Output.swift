import Foundation
import ShardClient

/// Writing to stdout and stderr, and the human form of values.
enum Output {
    /// `text` and a newline on stdout.
    static func line(_ text: String) {
        print(text)
    }

    /// `error[code]: message` on stderr, then a hint where shardctl knows a next step.
    static func error(_ error: ShardError) {
        var text = "error[\(error.code.rawValue)]: \(error.message)\n"
        if error.code == .badConfig, let errors = error.details["errors"]?.arrayValue {
            // One line per refused key path, rather than the message's one long line.
            let version = error.details["version"].map { " (configuration version \(Output.cell($0)) kept)" } ?? ""
            text = "error[bad_config]: shards.conf was not applied\(version):\n"
                + errors.map { "  \($0.stringValue ?? $0.description)\n" }.joined()
        }
        if error.code == .ambiguousIdentity, let keys = error.keys, !keys.isEmpty {
            text += "hint: name one shard with --shard (\(keys.map(\.token).joined(separator: ", ")))\n"
        }
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// A value for a table cell: text without quotes (JSON-escaped if it holds control
    /// characters), numbers and booleans as JSON writes them, `null`, lists and objects as JSON.
    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil: return "-"
        case .string(let text)?:
            let hasControl = text.unicodeScalars.contains { $0.properties.generalCategory == .control }
            return hasControl ? JSONValue.string(text).description : text
        case let value?: return value.description
        }
    }

    /// `n` with a noun, pluralised with `s` unless it is 1: `1 object`, `3 objects`.
    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }

    /// A list of names for a sentence: `shard asia`, `shards asia, europe`, `no shard`.
    static func shards(_ names: [String]) -> String {
        switch names.count {
        case 0: return "no shard"
        case 1: return "shard \(names[0])"
        default: return "shards \(names.joined(separator: ", "))"
        }
    }

    /// A duration in seconds for people: `42s`, `5m 02s`, `3h 04m 05s`, `2d 03h 04m`.
    static func duration(seconds: Int64) -> String {
        let days = seconds / 86_400, hours = seconds / 3600 % 24, minutes = seconds / 60 % 60, rest = seconds % 60
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if days > 0 { return "\(days)d \(two(hours))h \(two(minutes))m" }
        if hours > 0 { return "\(hours)h \(two(minutes))m \(two(rest))s" }
        if minutes > 0 { return "\(minutes)m \(two(rest))s" }
        return "\(rest)s"
    }

    /// The strings of a JSON array of names.
    static func names(_ value: JSONValue?) -> [String] {
        value?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}
