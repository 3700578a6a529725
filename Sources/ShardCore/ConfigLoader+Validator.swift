import ShardProtocol
import TOMLKit

extension ConfigLoader {
    /// A TOML key path for messages: `models.Report.shard_by.ranges[2]`.
    struct ConfigPath: CustomStringConvertible {
        enum Component {
            case key(String)
            case index(Int)
        }

        var components: [Component] = []

        init(_ keys: String...) {
            components = keys.map(Component.key)
        }

        func key(_ key: String) -> ConfigPath {
            var copy = self
            copy.components.append(.key(key))
            return copy
        }

        func index(_ index: Int) -> ConfigPath {
            var copy = self
            copy.components.append(.index(index))
            return copy
        }

        /// The key components only, as `TOMLKeyOrder` records them.
        var keys: [String] {
            components.compactMap { if case .key(let k) = $0 { k } else { nil } }
        }

        /// Keys joined by `.`, quoted when they are not bare TOML keys; indexes as `[n]`.
        var description: String {
            var out = ""
            for component in components {
                switch component {
                case .key(let key):
                    if !out.isEmpty { out += "." }
                    out += isBareKey(key) ? key : quoted(key)
                case .index(let index):
                    out += "[\(index)]"
                }
            }
            return out
        }
    }

    /// Walks the parsed TOML, collecting every issue.
    struct Validator {
        let order: TOMLKeyOrder
        let baseDirectory: String
        let environment: [String: String]
        /// `[server] socket` as clients read it (`SocketPath`'s rule), which must agree.
        let socketAsClientsReadIt: String?
        var issues: [ConfigError.Issue] = []
        /// Shards with `drain = true`, known once `[shards]` is read.
        var drained: Set<String> = []

        init(order: TOMLKeyOrder, baseDirectory: String, environment: [String: String], socketAsClientsReadIt: String? = nil) {
            self.order = order
            self.baseDirectory = baseDirectory
            self.environment = environment
            self.socketAsClientsReadIt = socketAsClientsReadIt
        }

        mutating func report(_ path: ConfigPath, _ message: String) {
            issues.append(.init(path: path.description, message: message))
        }

        /// Runs `body` and hands back the issues it reported instead of keeping them.
        mutating func collectingIssues(_ body: (inout Validator) -> Void) -> [ConfigError.Issue] {
            let start = issues.count
            body(&self)
            let collected = Array(issues[start...])
            issues.removeSubrange(start...)
            return collected
        }

        // MARK: Whole file

        mutating func configuration(from root: TOMLTable, file: String) -> Configuration? {
            let rootKeys = order.ordered(root.keys, under: [])
            for key in rootKeys where !Self.topLevelKeys.contains(key) {
                report(ConfigPath(key), "unknown top-level key (valid keys: \(Self.topLevelKeys.joined(separator: ", ")))")
            }
            let server = serverSettings(root["server"])
            let (shards, shardNames) = shardSpecs(root["shards"])
            drained = Set((shards ?? []).filter(\.drain).map(\.name))
            let models = self.models(root["models"], shardNames: shardNames)
            guard issues.isEmpty, let server, let shards, let models else { return nil }
            return Configuration(file: file, server: server, shards: shards, models: models)
        }

        static let topLevelKeys = ["server", "shards", "models"]

        /// Reports keys of `table` that are not in `allowed`, naming the valid ones.
        mutating func checkKeys(_ table: TOMLTable, at path: ConfigPath, allowed: [String], in context: String) {
            for key in order.ordered(table.keys, under: path.keys) where !allowed.contains(key) {
                report(path.key(key), "unknown key (valid keys in \(context): \(allowed.joined(separator: ", ")))")
            }
        }

        /// The keys of `table` in file order.
        func orderedKeys(_ table: TOMLTable, at path: ConfigPath) -> [String] {
            order.ordered(table.keys, under: path.keys)
        }

        // MARK: Typed values

        mutating func expect(_ type: TOMLType, _ value: TOMLValueConvertible, at path: ConfigPath) -> Bool {
            if value.type == type { return true }
            report(path, "expected \(describe(type)), got \(describe(value.type))")
            return false
        }

        mutating func string(_ value: TOMLValueConvertible, at path: ConfigPath) -> String? {
            expect(.string, value, at: path) ? value.string : nil
        }

        mutating func bool(_ value: TOMLValueConvertible, at path: ConfigPath) -> Bool? {
            expect(.bool, value, at: path) ? value.bool : nil
        }

        mutating func integer(_ value: TOMLValueConvertible, at path: ConfigPath) -> Int? {
            expect(.int, value, at: path) ? value.int : nil
        }

        mutating func table(_ value: TOMLValueConvertible, at path: ConfigPath) -> TOMLTable? {
            expect(.table, value, at: path) ? value.table : nil
        }

        mutating func array(_ value: TOMLValueConvertible, at path: ConfigPath) -> TOMLArray? {
            expect(.array, value, at: path) ? value.array : nil
        }

        /// An integer of at least 1.
        mutating func positiveInteger(_ value: TOMLValueConvertible, at path: ConfigPath) -> Int? {
            guard let n = integer(value, at: path) else { return nil }
            guard n >= 1 else {
                report(path, "must be at least 1, got \(n)")
                return nil
            }
            return n
        }

        /// A string naming a shard of `shardNames`.
        mutating func shardReference(
            _ value: TOMLValueConvertible, at path: ConfigPath, shardNames: [String]
        ) -> String? {
            guard let name = string(value, at: path) else { return nil }
            guard shardNames.contains(name) else {
                report(path, "\(quoted(name)) is not a shard (\(listing("shards", shardNames)))")
                return nil
            }
            return name
        }
    }
}

// MARK: - Message helpers

extension ConfigLoader {
    /// `"text"` with `"`, `\` and control characters escaped as in TOML.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `shards: a, b, c`, or `no shards are defined`.
    static func listing(_ what: String, _ names: [String]) -> String {
        names.isEmpty ? "no \(what) are defined" : "\(what): " + names.joined(separator: ", ")
    }

    /// "a string", "an integer", ... for type mismatch messages.
    static func describe(_ type: TOMLType) -> String {
        switch type {
        case .table: "a table"
        case .array: "an array"
        case .string: "a string"
        case .int: "an integer"
        case .double: "a float"
        case .bool: "a boolean"
        case .date: "a local date"
        case .time: "a local time"
        case .dateTime: "a date-time"
        }
    }

    /// A key TOML writes without quotes: `[A-Za-z0-9_-]+`.
    static func isBareKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*`: model, table, column and relationship names.
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        let isLetter = { (c: UInt8) in (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F }
        return isLetter(first) && name.utf8.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// `[a-z][a-z0-9_]*`: shard names.
    static func isShardName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first >= 0x61 && first <= 0x7A else { return false }
        return name.utf8.allSatisfy { c in (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F }
    }
}
