#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ShardProtocol
import TOMLKit

/// Reads shards.conf (config.md) into a validated, immutable `Configuration`.
///
/// Every mistake is collected and reported together in one `ConfigError`, each with its
/// TOML key path and what would be valid. Unknown keys are errors everywhere. The order is
/// unknown top-level keys, `[server]`, the shards, then the models, each in file order (a
/// model's own keys first, then its `shard_by` and relationships). A broken column or model
/// is reported once: references to it are not reported again as unknown.
/// Shards, models, columns and relationships keep the order of the file (`TOMLKeyOrder`),
/// since the shards' order is the routing order. Array elements appear in key paths as
/// `[n]`, counted from 0 (`models.M.shard_by.ranges[1][0]`).
///
/// The rules, beyond config.md's tables:
/// - Top level: only `server`, `shards` and `models`; at least one shard and one model.
/// - `[server]`: `socket` (default `"shardd.sock"`) and `state_dir` (default `"data"`) are
///   made absolute against the file's directory (a plain join; `.` segments and repeated
///   `/` are dropped, `..` is kept as written). `socket_mode` is a string of 3 or 4 octal
///   digits (`"600"`, `"0600"`); setuid, setgid and sticky bits are refused, since they mean
///   nothing for a socket. `allowed_uids` and `admin_uids` are arrays of uids
///   (0...4294967294); absent means the daemon's own uid; an empty `allowed_uids` would
///   refuse every peer and is an error, an empty `admin_uids` disables admin ops. `commit`
///   is `"best_effort"` or `"two_phase"`. The integer limits are at least 1. The socket
///   path must fit a Unix socket address (107 bytes on Linux, 103 elsewhere).
/// - `[shards.NAME]`: NAME is `[a-z][a-z0-9_]*`. Exactly one of `url` and `url_env`; the
///   variable `url_env` names must be set and non-empty. A URL is `sqlite:PATH` (relative
///   to the file's directory; empty, `:memory:` and `sqlite://...` are refused, the first two
///   because each pooled connection would get a database of its own, the last because
///   `sqlite://x` is ambiguous between a host and a path) or starts with `postgresql://` or
///   `postgres://` and is kept as given. Two shards may not name the same database.
///   `pool_size` is at least 1; default `ShardSpec.defaultPoolSize(for:)`. Messages never
///   show a password.
/// - `[models.NAME]`: NAME is `[A-Za-z_][A-Za-z0-9_]*`. `table` defaults to NAME in
///   snake_case (`WeatherLocation` -> `weather_location`, `HTTPLog` -> `http_log`). Table
///   and column names are `[A-Za-z_][A-Za-z0-9_]*` of at most 63 bytes (PostgreSQL would
///   silently truncate longer ones); tables starting `shardd_` or `sqlite_` are reserved; no
///   two models share a table and no two columns of a model share a name, compared without
///   regard to case (SQLite folds case, PostgreSQL folds unquoted names).
/// - `columns`: at least one; `col = "type"` or `col = { type, nullable, unique, index }`.
///   `primary_key` (default `["id"]`) is a non-empty list of distinct columns, which are
///   never nullable (`nullable = true` on one is an error).
/// - `id`: `"sequence"`, `"shard_local"` or `"client"`. Default: `"sequence"` when the
///   primary key is a single `int` column, otherwise `"client"`. `sequence` and
///   `shard_local` need a single `int` primary-key column. `sequence_shard` only with
///   `"sequence"` and names a shard.
/// - `shard_by` (absent: rows are placed only by an explicit shard) is exactly one of the
///   map, hash, ranges and parent forms. Map keys are converted to the column's type (int:
///   decimal; real: finite; bool: `"true"`/`"false"`; timestamp: RFC 3339) and may not
///   repeat a value after conversion. `hash = true` only, not on a `real` column. Ranges
///   are `[lo, hi, "shard"]` with bounds of the column's type (timestamps as TOML
///   date-times with an offset or RFC 3339 strings), `lo < hi`, not overlapping; not on a
///   `bool` column. A parent is another model with a single-column primary key of the `via`
///   column's type; parent rules may not form a cycle. The deciding column may not be
///   the primary key of an `id = "shard_local"` model, whose value the shard only makes
///   after the row is placed.
/// - `relationships.REL`: REL is an identifier that is not also a column of the model;
///   keys `model` and `foreign_key`. A foreign key on this model is to-one (the other model
///   needs a single-column primary key of the same type); else on the other model it is
///   to-many (this model needs one).
package enum ConfigLoader {
    /// Reads and validates a file.
    ///
    /// - Parameters:
    ///   - path: the path as the user gave it; used in messages, and its directory
    ///     (made absolute against the working directory) resolves relative paths.
    ///   - environment: for `url_env`; the process environment by default.
    package static func load(
        path: String, environment: [String: String] = ConfigLoader.processEnvironment()
    ) throws(ConfigError) -> Configuration {
        let text: String
        switch readTextFile(path) {
        case .success(let contents):
            text = contents
        case .failure(let failure):
            throw ConfigError(file: path, issues: [.init(path: "", message: "cannot read: \(failure.reason)")])
        }
        return try parse(text, file: path, baseDirectory: absoluteDirectory(of: path), environment: environment)
    }

    /// Validates TOML text; relative paths resolve against `baseDirectory` (absolute).
    ///
    /// - Parameter file: the name used in messages and kept in `Configuration.file`.
    package static func parse(
        _ text: String, file: String, baseDirectory: String, environment: [String: String]
    ) throws(ConfigError) -> Configuration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let message = error.description.trimmingTrailingNewlines()
            throw ConfigError(file: file, issues: [
                .init(path: "", message: message, line: error.source.begin.line, column: error.source.begin.column)
            ])
        } catch {
            throw ConfigError(file: file, issues: [.init(path: "", message: "not valid TOML: \(error)")])
        }
        var validator = Validator(
            order: TOMLKeyOrder(text: text), baseDirectory: normalize(baseDirectory), environment: environment,
            socketAsClientsReadIt: SocketPath.serverSocket(inTOML: text))
        let configuration = validator.configuration(from: root, file: file)
        guard validator.issues.isEmpty, let configuration else {
            throw ConfigError(file: file, issues: validator.issues)
        }
        return configuration
    }

    /// The environment of this process.
    package static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        #if canImport(Darwin)
        let environment = _NSGetEnviron()?.pointee
        #else
        let environment = environ as UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        #endif
        guard var entry = environment else { return result }
        while let pointer = entry.pointee {
            let pair = String(cString: pointer)
            if let equals = pair.firstIndex(of: "=") {
                let name = String(pair[..<equals])
                if result[name] == nil { result[name] = String(pair[pair.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }
}

// MARK: - Files and paths

extension ConfigLoader {
    struct ReadFailure: Error {
        var reason: String
    }

    /// The whole file as UTF-8 text.
    static func readTextFile(_ path: String) -> Result<String, ReadFailure> {
        guard let file = fopen(path, "rb") else {
            return .failure(ReadFailure(reason: systemError(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            bytes.append(contentsOf: buffer[0..<count])
            if count < buffer.count {
                if ferror(file) != 0 { return .failure(ReadFailure(reason: systemError(errno))) }
                break
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(ReadFailure(reason: "not UTF-8 text (TOML files are UTF-8)"))
        }
        return .success(text)
    }

    private static func systemError(_ code: Int32) -> String {
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }

    /// The directory of `path`, absolute (against the working directory when `path` is relative).
    static func absoluteDirectory(of path: String) -> String {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        if directory.hasPrefix("/") { return normalize(directory) }
        return normalize(currentDirectory() + "/" + directory)
    }

    private static func currentDirectory() -> String {
        guard let pointer = getcwd(nil, 0) else { return "/" }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    /// `path` made absolute against `base`, then normalised.
    static func resolve(_ path: String, against base: String) -> String {
        normalize(path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// Drops `.` segments, repeated and trailing `/`; keeps `..` (with symbolic links a
    /// textual `..` can mean another directory than the one it seems to).
    static func normalize(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = segments.joined(separator: "/")
        if absolute { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// `WeatherLocation` -> `weather_location`, `HTTPLog` -> `http_log`, `Report2` -> `report2`.
    static func snakeCase(_ name: String) -> String {
        let characters = Array(name)
        var out = ""
        for (i, c) in characters.enumerated() {
            if c.isUppercase, i > 0 {
                let previous = characters[i - 1]
                let nextIsLower = i + 1 < characters.count && characters[i + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) {
                    out += "_"
                }
            }
            out += c.lowercased()
        }
        return out
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last.isNewline || last == " " { s.removeLast() }
        return String(s)
    }
}
