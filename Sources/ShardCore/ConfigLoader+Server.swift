import ShardProtocol
import TOMLKit

extension ConfigLoader.Validator {
    typealias ConfigPath = ConfigLoader.ConfigPath

    // MARK: [server]

    static let serverKeys = [
        "socket", "socket_mode", "allowed_uids", "admin_uids", "state_dir", "create_tables", "commit",
        "allow_raw_sql", "max_line_bytes", "max_connections", "max_result_rows", "identity_map_limit",
        "request_timeout_ms", "idle_transaction_timeout_ms", "move_pause_ms", "move_switch_timeout_ms",
        "metrics_listen", "metrics_public",
    ]

    /// The `[server]` integer limits, each at least 1.
    static var serverLimits: [String: WritableKeyPath<ServerSettings, Int>] { [
        "max_line_bytes": \.maxLineBytes, "max_connections": \.maxConnections, "max_result_rows": \.maxResultRows,
        "identity_map_limit": \.identityMapLimit, "request_timeout_ms": \.requestTimeoutMs,
        "idle_transaction_timeout_ms": \.idleTransactionTimeoutMs,
        "move_pause_ms": \.movePauseMs, "move_switch_timeout_ms": \.moveSwitchTimeoutMs,
    ] }

    /// The longest path a Unix socket address holds (without its terminating NUL).
    #if os(Linux)
    static let maxSocketPathBytes = 107
    #else
    static let maxSocketPathBytes = 103
    #endif

    mutating func serverSettings(_ value: TOMLValueConvertible?) -> ServerSettings? {
        let path = ConfigPath("server")
        var settings = ServerSettings(
            socket: ConfigLoader.resolve("shardd.sock", against: baseDirectory),
            stateDir: ConfigLoader.resolve("data", against: baseDirectory))
        var valid = true
        guard let value else {
            checkSocketLength(settings.socket, at: path.key("socket"), explicit: false)
            return settings
        }
        guard let table = table(value, at: path) else { return nil }
        checkKeys(table, at: path, allowed: Self.serverKeys, in: "[server]")
        for key in orderedKeys(table, at: path) {
            guard let item = table[key] else { continue }
            let keyPath = path.key(key)
            let before = issues.count
            switch key {
            case "socket":
                if let s = nonEmptyString(item, at: keyPath) {
                    settings.socket = ConfigLoader.resolve(s, against: baseDirectory)
                    checkSocketLength(settings.socket, at: keyPath, explicit: true)
                    if socketAsClientsReadIt != s {
                        // Clients find the socket without a TOML parser (SocketPath); a file
                        // they would misread sends them to another path.
                        report(keyPath, "write it as socket = \"...\" on one line of [server] (a basic or literal string): clients read the socket path from shards.conf by that rule, and would read \(socketAsClientsReadIt.map { ConfigLoader.quoted($0) } ?? "none (so they would use shardd.sock)")")
                    }
                }
            case "state_dir":
                if let s = nonEmptyString(item, at: keyPath) {
                    settings.stateDir = ConfigLoader.resolve(s, against: baseDirectory)
                }
            case "socket_mode":
                if let mode = socketMode(item, at: keyPath) { settings.socketMode = mode }
            case "allowed_uids":
                settings.allowedUIDs = uidList(item, at: keyPath, emptyMeans: "every peer would be refused; omit allowed_uids to allow only the daemon's own uid")
            case "admin_uids":
                settings.adminUIDs = uidList(item, at: keyPath, emptyMeans: nil)
            case "create_tables":
                if let b = bool(item, at: keyPath) { settings.createTables = b }
            case "allow_raw_sql":
                if let b = bool(item, at: keyPath) { settings.allowRawSQL = b }
            case "commit":
                if let s = string(item, at: keyPath) {
                    if let mode = CommitMode(rawValue: s) {
                        settings.commit = mode
                    } else {
                        let modes = CommitMode.allCases.map { ConfigLoader.quoted($0.rawValue) }.joined(separator: ", ")
                        report(keyPath, "\(ConfigLoader.quoted(s)) is not a commit mode (valid: \(modes))")
                    }
                }
            case "metrics_listen":
                if let text = string(item, at: keyPath) {
                    if let address = ListenAddress(parsing: text) {
                        settings.metricsListen = address
                    } else {
                        report(keyPath, "\(ConfigLoader.quoted(text)) is not HOST:PORT (e.g. \"127.0.0.1:9187\", or \"[::1]:9187\" for IPv6; a port from 1 to 65535)")
                    }
                }
            case "metrics_public":
                if let b = bool(item, at: keyPath) { settings.metricsPublic = b }
            case let key where Self.serverLimits[key] != nil:
                if let n = positiveInteger(item, at: keyPath), let limit = Self.serverLimits[key] { settings[keyPath: limit] = n }
            default:
                break  // reported by checkKeys
            }
            if issues.count != before { valid = false }
        }
        if let listen = settings.metricsListen, !listen.isLoopback, !settings.metricsPublic {
            report(path.key("metrics_listen"), "\(ConfigLoader.quoted(listen.description)) is reachable from other machines, and the metrics name every shard and model: listen on a loopback address (\"127.0.0.1:\(listen.port)\"), or set metrics_public = true to serve them there")
            valid = false
        }
        if table["socket"] == nil, !checkSocketLength(settings.socket, at: path.key("socket"), explicit: false) {
            valid = false
        }
        return valid ? settings : nil
    }

    private mutating func nonEmptyString(_ value: TOMLValueConvertible, at path: ConfigPath) -> String? {
        guard let s = string(value, at: path) else { return nil }
        guard !s.isEmpty else {
            report(path, "must not be empty (a path, relative to the file's directory or absolute)")
            return nil
        }
        return s
    }

    /// False (and reported) when `socket` is too long for a Unix socket address.
    @discardableResult
    private mutating func checkSocketLength(_ socket: String, at path: ConfigPath, explicit: Bool) -> Bool {
        let bytes = socket.utf8.count
        guard bytes > Self.maxSocketPathBytes else { return true }
        let start = explicit ? "" : "the default socket "
        report(path, "\(start)\(ConfigLoader.quoted(socket)) is \(bytes) bytes long; a Unix socket path holds at most \(Self.maxSocketPathBytes) (choose a shorter path)")
        return false
    }

    /// `"0600"` or `"600"`: permission bits only.
    private mutating func socketMode(_ value: TOMLValueConvertible, at path: ConfigPath) -> UInt32? {
        let example = "a string of 3 or 4 octal digits like \"0600\""
        guard value.type == .string, let s = value.string else {
            report(path, "expected \(example), got \(ConfigLoader.describe(value.type))")
            return nil
        }
        let digits = Array(s.utf8)
        guard (3...4).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x37 }) else {
            report(path, "\(ConfigLoader.quoted(s)) is not an octal mode (expected \(example))")
            return nil
        }
        let mode = digits.reduce(UInt32(0)) { $0 * 8 + UInt32($1 - 0x30) }
        guard mode <= 0o777 else {
            report(path, "\(ConfigLoader.quoted(s)) sets setuid, setgid or sticky bits, which mean nothing for a socket (expected permission bits like \"0600\" or \"0660\")")
            return nil
        }
        return mode
    }

    private mutating func uidList(_ value: TOMLValueConvertible, at path: ConfigPath, emptyMeans: String?) -> [UInt32]? {
        guard let array = array(value, at: path) else { return nil }
        if array.isEmpty, let emptyMeans {
            report(path, "is empty: \(emptyMeans)")
            return nil
        }
        var uids: [UInt32] = []
        for i in 0..<array.count {
            let item = array[i]
            let itemPath = path.index(i)
            guard let n = integer(item, at: itemPath) else { continue }
            guard n >= 0, n < Int(UInt32.max) else {
                report(itemPath, "\(n) is not a uid (valid: 0 to \(UInt32.max - 1))")
                continue
            }
            uids.append(UInt32(n))
        }
        return uids
    }

    // MARK: [shards]

    static let shardKeys = ["url", "url_env", "pool_size", "drain"]
    static let validURLForms = "valid: \"sqlite:PATH\", \"postgresql://...\", \"postgres://...\""

    /// The shards in file order (nil when any is broken), and every declared shard name,
    /// valid or not, for references from models.
    mutating func shardSpecs(_ value: TOMLValueConvertible?) -> ([ShardSpec]?, [String]) {
        let path = ConfigPath("shards")
        let example = "e.g. [shards.main] url = \"sqlite:data/main.db\""
        guard let value else {
            report(path, "missing: at least one shard is required (\(example))")
            return (nil, [])
        }
        guard let table = table(value, at: path) else { return (nil, []) }
        let names = orderedKeys(table, at: path)
        guard !names.isEmpty else {
            report(path, "at least one shard is required (\(example))")
            return (nil, [])
        }
        var specs: [ShardSpec] = []
        var valid = true
        var seenLocations: [(location: ShardLocation, shard: String)] = []
        for name in names {
            guard let item = table[name] else { continue }
            let before = issues.count
            if let spec = shardSpec(name: name, item, at: path.key(name)) {
                if let twin = seenLocations.first(where: { $0.location == spec.location }) {
                    let key = spec.urlEnv == nil ? "url" : "url_env"
                    report(path.key(name).key(key), "names the same database as shard \(twin.shard); each shard needs a database of its own")
                } else {
                    seenLocations.append((spec.location, name))
                }
                specs.append(spec)
            }
            if issues.count != before { valid = false }
        }
        return (valid ? specs : nil, names)
    }

    private mutating func shardSpec(name: String, _ value: TOMLValueConvertible, at path: ConfigPath) -> ShardSpec? {
        var valid = true
        if !ConfigLoader.isShardName(name) {
            report(path, "\(ConfigLoader.quoted(name)) is not a valid shard name (expected [a-z][a-z0-9_]*: a lowercase letter, then lowercase letters, digits or _)")
            valid = false
        }
        guard let table = table(value, at: path) else { return nil }
        let before = issues.count
        checkKeys(table, at: path, allowed: Self.shardKeys, in: "[shards.\(name)]")

        var location: ShardLocation?
        var urlEnv: String?
        switch (table["url"], table["url_env"]) {
        case (.some, .some):
            report(path, "gives both url and url_env; give exactly one")
        case (nil, nil):
            report(path, "missing url: give url = \"sqlite:PATH\" or \"postgresql://...\", or url_env = \"VARIABLE\"")
        case (let url?, nil):
            if let text = string(url, at: path.key("url")) {
                location = shardLocation(text, at: path.key("url"), source: nil)
            }
        case (nil, let env?):
            let envPath = path.key("url_env")
            if let variable = string(env, at: envPath) {
                urlEnv = variable
                if variable.isEmpty {
                    report(envPath, "must name an environment variable, e.g. \"SHARDD_\(name.uppercased())_URL\"")
                } else if let text = environment[variable] {
                    if text.isEmpty {
                        report(envPath, "environment variable \(variable) is empty; it must hold the shard's URL (\(Self.validURLForms))")
                    } else {
                        location = shardLocation(text, at: envPath, source: variable)
                    }
                } else {
                    report(envPath, "environment variable \(variable) is not set; it must hold the shard's URL (\(Self.validURLForms))")
                }
            }
        }

        var poolSize: Int?
        if let pool = table["pool_size"] {
            poolSize = positiveInteger(pool, at: path.key("pool_size"))
        }
        var drain = false
        if let value = table["drain"], let flag = bool(value, at: path.key("drain")) { drain = flag }
        guard valid, issues.count == before, let location else { return nil }
        return ShardSpec(
            name: name, location: location, poolSize: poolSize ?? ShardSpec.defaultPoolSize(for: location),
            urlEnv: urlEnv, drain: drain)
    }

    /// Parses a shard URL; `source` is the environment variable it came from, if any.
    private mutating func shardLocation(_ url: String, at path: ConfigPath, source: String?) -> ShardLocation? {
        let what = source.map { "the value of \($0)" } ?? "url"
        let shown = ConfigLoader.quoted(Self.safeForMessages(url))
        if url.isEmpty {
            report(path, "\(what) is empty (\(Self.validURLForms))")
            return nil
        }
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
            return .postgres(uri: url)
        }
        if url.hasPrefix("sqlite:") {
            let shown = ConfigLoader.quoted(url)  // an SQLite URL holds no password
            let file = String(url.dropFirst("sqlite:".count))
            if file.hasPrefix("//") {
                report(path, "\(what) \(shown) is ambiguous: write sqlite:PATH, e.g. \"sqlite:data/shard.db\" (relative to the file's directory) or \"sqlite:/var/lib/shardd/shard.db\"")
                return nil
            }
            if file.isEmpty || file == ":memory:" {
                report(path, "\(what) \(shown) has no database file: each pooled connection would get a database of its own; give a file, e.g. \"sqlite:data/shard.db\"")
                return nil
            }
            return .sqlite(path: ConfigLoader.resolve(file, against: baseDirectory))
        }
        report(path, "\(what) \(shown) is not a shard URL (\(Self.validURLForms))")
        return nil
    }

    /// The URL with any password hidden; for text that is not a `scheme://` URL, only
    /// the part before the first `:` (whatever follows might be a secret).
    static func safeForMessages(_ url: String) -> String {
        if url.contains("://") { return ShardLocation.redactPassword(in: url) }
        if let colon = url.firstIndex(of: ":") { return String(url[...colon]) + "..." }
        return url
    }
}
