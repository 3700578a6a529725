import Foundation

/// Where the daemon's socket is when a client program does not say: `SHARDD_SOCKET`, else the
/// `[server] socket` of `./shards.conf` (relative to that file's directory), else
/// `./shardd.sock` (the daemon's default).
///
/// Clients read that one key by a fixed rule rather than with a TOML parser (which would put
/// a C++ library under every client): the first line, after optional blanks, that is
/// `socket = "..."` inside the `[server]` table or `server.socket = "..."`, with a basic
/// (`"..."`; `\n` and `\t` are read as escapes, any other escaped character as itself) or a
/// literal (`'...'`) string on that line.
/// The daemon reads shards.conf with a TOML parser and refuses a file in which this rule
/// would find another socket than it does (`ConfigLoader`), so the two always agree.
package enum SocketPath {
    package static func resolve(environment: [String: String], currentDirectory: String) -> String {
        if let path = environment["SHARDD_SOCKET"], !path.isEmpty {
            return absolute(path, in: currentDirectory)
        }
        let config = currentDirectory + "/shards.conf"
        if let text = try? String(contentsOfFile: config, encoding: .utf8) {
            return absolute(serverSocket(inTOML: text) ?? "shardd.sock", in: currentDirectory)
        }
        return absolute("shardd.sock", in: currentDirectory)
    }

    package static func absolute(_ path: String, in directory: String) -> String {
        path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
    }

    /// The string value of `socket` in the `[server]` table, found by the rule above; nil
    /// when the rule finds none.
    package static func serverSocket(inTOML text: String) -> String? {
        var inServer = false
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[") {
                let header = line.prefix { $0 != "]" }.dropFirst().filter { $0 != " " && $0 != "\t" }
                inServer = header == "server"
                continue
            }
            var rest: Substring
            if inServer, line.hasPrefix("socket") {
                rest = line.dropFirst("socket".count)
            } else if line.hasPrefix("server.socket") {
                rest = line.dropFirst("server.socket".count)
            } else {
                continue
            }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            guard rest.first == "=" else { continue }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
            return stringValue(rest)
        }
        return nil
    }

    /// A TOML basic (`"..."`, common escapes) or literal (`'...'`) string at the start of `text`.
    private static func stringValue(_ text: Substring) -> String? {
        guard let quote = text.first, quote == "\"" || quote == "'" else { return nil }
        var value = ""
        var escaped = false
        for character in text.dropFirst() {
            if escaped {
                switch character {
                case "n": value.append("\n")
                case "t": value.append("\t")
                default: value.append(character)
                }
                escaped = false
            } else if character == "\\" && quote == "\"" {
                escaped = true
            } else if character == quote {
                return value
            } else {
                value.append(character)
            }
        }
        return nil
    }
}
