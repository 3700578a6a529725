import ShardProtocol

/// A validated, immutable shards.conf (config.md). Built only by `ConfigLoader`.
package struct Configuration: Sendable {
    /// The file it was read from, as given (used in messages).
    package var file: String
    package var server: ServerSettings
    /// Shards in file order: the order for ties and for "all shards".
    package var shards: [ShardSpec]
    /// Models in file order.
    package var models: [Model]

    package init(file: String, server: ServerSettings, shards: [ShardSpec], models: [Model]) {
        self.file = file
        self.server = server
        self.shards = shards
        self.models = models
    }

    package func shard(named name: String) -> ShardSpec? {
        shards.first { $0.name == name }
    }

    package func model(named name: String) -> Model? {
        models.first { $0.name == name }
    }
}

/// `[server]` of config.md, with defaults applied and paths made absolute.
package struct ServerSettings: Sendable, Equatable {
    package var socket: String
    /// Permission bits of the socket file, e.g. `0o600`.
    package var socketMode: UInt32
    /// Peers allowed to connect; nil means the daemon's own uid.
    package var allowedUIDs: [UInt32]?
    /// Peers allowed to run admin ops; nil means the daemon's own uid.
    package var adminUIDs: [UInt32]?
    package var stateDir: String
    package var createTables: Bool
    package var commit: CommitMode
    package var allowRawSQL: Bool
    package var maxLineBytes: Int
    package var maxConnections: Int
    package var maxResultRows: Int
    package var identityMapLimit: Int
    package var requestTimeoutMs: Int
    package var idleTransactionTimeoutMs: Int
    /// The longest requests on a moving unit wait during its switch (protocol.md 13).
    package var movePauseMs = 2000
    /// How long a switch waits for open transactions on the unit before rolling them back.
    package var moveSwitchTimeoutMs = 5000
    /// `metrics_listen`: where `GET /metrics` and `GET /health` are served; nil: nowhere.
    package var metricsListen: ListenAddress?
    /// `metrics_public`: a non-loopback `metrics_listen` is allowed.
    package var metricsPublic = false

    package init(
        socket: String, socketMode: UInt32 = 0o600, allowedUIDs: [UInt32]? = nil, adminUIDs: [UInt32]? = nil,
        stateDir: String, createTables: Bool = true, commit: CommitMode = .twoPhase, allowRawSQL: Bool = false,
        maxLineBytes: Int = 1_048_576, maxConnections: Int = 1024, maxResultRows: Int = 10_000,
        identityMapLimit: Int = 100_000, requestTimeoutMs: Int = 30_000, idleTransactionTimeoutMs: Int = 60_000
    ) {
        self.socket = socket
        self.socketMode = socketMode
        self.allowedUIDs = allowedUIDs
        self.adminUIDs = adminUIDs
        self.stateDir = stateDir
        self.createTables = createTables
        self.commit = commit
        self.allowRawSQL = allowRawSQL
        self.maxLineBytes = maxLineBytes
        self.maxConnections = maxConnections
        self.maxResultRows = maxResultRows
        self.identityMapLimit = identityMapLimit
        self.requestTimeoutMs = requestTimeoutMs
        self.idleTransactionTimeoutMs = idleTransactionTimeoutMs
    }
}

/// `HOST:PORT` of `metrics_listen` (an IPv6 host in brackets: `[::1]:9187`).
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `HOST:PORT`, or nil when it is not of that form (a port 1 to 65535).
    package init?(parsing text: String) {
        var host: Substring
        var rest: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            rest = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            rest = text[text.index(after: colon)...]
            if host.contains(":") { return nil }  // IPv6 without brackets
        }
        guard !host.isEmpty, let port = Int(rest), (1...65535).contains(port) else { return nil }
        self.init(host: String(host), port: port)
    }

    /// Whether only this machine can reach it: `localhost`, 127.0.0.0/8 or `::1`.
    package var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

package enum CommitMode: String, Sendable, Equatable, CaseIterable {
    case bestEffort = "best_effort"
    case twoPhase = "two_phase"
}

/// `[shards.NAME]`.
package struct ShardSpec: Sendable, Equatable {
    package var name: String
    package var location: ShardLocation
    package var poolSize: Int
    /// The environment variable the URL came from, when `url_env` was used.
    package var urlEnv: String?
    /// `drain = true`: the shard gets no new units, and `rebalance` empties it.
    package var drain: Bool

    package init(name: String, location: ShardLocation, poolSize: Int, urlEnv: String? = nil, drain: Bool = false) {
        self.name = name
        self.location = location
        self.poolSize = poolSize
        self.urlEnv = urlEnv
        self.drain = drain
    }

    package static func defaultPoolSize(for location: ShardLocation) -> Int {
        switch location {
        case .sqlite: 4
        case .postgres: 8
        }
    }
}

/// Where a shard's data lives.
package enum ShardLocation: Sendable, Equatable {
    /// An SQLite file, absolute path.
    case sqlite(path: String)
    /// A libpq connection URI (`postgresql://...` or `postgres://...`).
    case postgres(uri: String)

    package var backendName: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// The URL with any password replaced by `***`, for logs and admin output.
    package var redacted: String {
        switch self {
        case .sqlite(let path):
            return "sqlite:" + path
        case .postgres(let uri):
            return ShardLocation.redactPassword(in: uri)
        }
    }

    /// Hides `user:password@` and a `password=` query parameter.
    package static func redactPassword(in uri: String) -> String {
        var out = uri
        if let schemeEnd = out.firstRange(of: "://") {
            let rest = out[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                out.replaceSubrange(out.index(after: colon)..<at, with: "***")
            }
        }
        var parts = out.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 {
            let params = parts[1].split(separator: "&", omittingEmptySubsequences: false).map { param -> String in
                param.hasPrefix("password=") ? "password=***" : String(param)
            }
            parts[1] = params.joined(separator: "&")
            out = parts.joined(separator: "?")
        }
        return out
    }
}

/// `[models.NAME]`.
///
/// Immutable, and cheap to copy: every request carries its model, so the fields live in one
/// shared storage object (a copy is one reference), with the column positions found once.
package struct Model: Sendable, Equatable {
    private final class Storage: Sendable {
        let name: String
        let table: String
        let columns: [Column]
        let primaryKey: [String]
        let id: IdStrategy
        let sequenceShard: String?
        let shardBy: ShardBy?
        let relationships: [Relationship]
        let positions: [String: Int]
        let primaryKeyPositions: [Int]
        let primaryKeyColumns: [Column]

        init(name: String, table: String, columns: [Column], primaryKey: [String], id: IdStrategy,
             sequenceShard: String?, shardBy: ShardBy?, relationships: [Relationship]) {
            self.name = name
            self.table = table
            self.columns = columns
            self.primaryKey = primaryKey
            self.id = id
            self.sequenceShard = sequenceShard
            self.shardBy = shardBy
            self.relationships = relationships
            let positions = Dictionary(columns.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
            self.positions = positions
            self.primaryKeyPositions = primaryKey.compactMap { positions[$0] }
            self.primaryKeyColumns = primaryKey.compactMap { positions[$0].map { columns[$0] } }
        }
    }

    private let storage: Storage

    package var name: String { storage.name }
    package var table: String { storage.table }
    /// Columns in file order.
    package var columns: [Column] { storage.columns }
    package var primaryKey: [String] { storage.primaryKey }
    package var id: IdStrategy { storage.id }
    /// With `id = "sequence"`: the shard that keeps the counter instead of `state_dir`.
    package var sequenceShard: String? { storage.sequenceShard }
    /// nil: rows are placed only by an explicit `shard`, and queries go to every shard.
    package var shardBy: ShardBy? { storage.shardBy }
    /// Relationships in file order.
    package var relationships: [Relationship] { storage.relationships }
    /// Each column's position in a row (the model's column order).
    package var positions: [String: Int] { storage.positions }
    /// The primary-key columns' positions in a row, in key order.
    package var primaryKeyPositions: [Int] { storage.primaryKeyPositions }
    /// The primary key columns, in key order.
    package var primaryKeyColumns: [Column] { storage.primaryKeyColumns }

    package init(
        name: String, table: String, columns: [Column], primaryKey: [String], id: IdStrategy,
        sequenceShard: String? = nil, shardBy: ShardBy?, relationships: [Relationship] = []
    ) {
        storage = Storage(name: name, table: table, columns: columns, primaryKey: primaryKey, id: id,
                          sequenceShard: sequenceShard, shardBy: shardBy, relationships: relationships)
    }

    package static func == (lhs: Model, rhs: Model) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.name == rhs.name && lhs.table == rhs.table && lhs.columns == rhs.columns && lhs.primaryKey == rhs.primaryKey
                && lhs.id == rhs.id && lhs.sequenceShard == rhs.sequenceShard && lhs.shardBy == rhs.shardBy
                && lhs.relationships == rhs.relationships)
    }

    package func column(named name: String) -> Column? {
        storage.positions[name].map { storage.columns[$0] }
    }

    /// The position of `name` in a row; the name must be a column (checked when the request
    /// or the configuration was read).
    package func position(of name: String) -> Int {
        guard let position = storage.positions[name] else { preconditionFailure("\(self.name) has no column \(name)") }
        return position
    }

    package func relationship(named name: String) -> Relationship? {
        relationships.first { $0.name == name }
    }
}

/// `[models.NAME.columns]`.
package struct Column: Sendable, Equatable {
    package var name: String
    package var type: ColumnType
    package var nullable: Bool
    package var unique: Bool
    package var index: Bool
    /// `default`: filled by the daemon when an `add` leaves the column out.
    package var defaultValue: ColumnDefault?
    /// `server_default`: the column's SQL `DEFAULT` on every shard.
    package var serverDefault: ColumnDefault?
    /// `on_update = "now"`: set to the daemon's clock by `update` and `update_where`.
    package var onUpdateNow: Bool

    package init(name: String, type: ColumnType, nullable: Bool = true, unique: Bool = false, index: Bool = false,
                 defaultValue: ColumnDefault? = nil, serverDefault: ColumnDefault? = nil, onUpdateNow: Bool = false) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.unique = unique
        self.index = index
        self.defaultValue = defaultValue
        self.serverDefault = serverDefault
        self.onUpdateNow = onUpdateNow
    }
}

/// A column's `default` or `server_default` (config.md): a value of the column's type, or,
/// for a timestamp column, the clock at the write.
package enum ColumnDefault: Sendable, Equatable, CustomStringConvertible {
    case value(ShardValue)
    case now

    /// The value for a write at `now`.
    package func value(at now: Timestamp) -> ShardValue {
        switch self {
        case .value(let value): value
        case .now: .timestamp(now)
        }
    }

    /// As shards.conf spells it.
    package var description: String {
        switch self {
        case .now: "\"now\""
        case .value(let value): value.configSpelling
        }
    }
}

extension ShardValue {
    /// The value as a TOML literal in shards.conf (timestamps as RFC 3339 strings).
    package var configSpelling: String {
        switch self {
        case .null: "null"
        case .int(let i): String(i)
        case .real(let d): String(d)
        case .bool(let b): b ? "true" : "false"
        case .text(let s): ConfigLoader.quoted(s)
        case .timestamp(let t): ConfigLoader.quoted(t.description)
        }
    }
}

/// How a new row's primary key is made.
package enum IdStrategy: String, Sendable, Equatable, CaseIterable {
    /// One counter across all shards, strictly increasing.
    case sequence
    /// Each shard's own auto-increment.
    case shardLocal = "shard_local"
    /// Given by the client.
    case client
}

/// The placement rule of a model (config.md `shard_by`).
package enum ShardBy: Sendable, Equatable {
    /// A lookup of the column's value; `defaultShard` when the value is not in the map.
    case map(column: String, map: [ShardValue: String], defaultShard: String?)
    /// A stable hash of the column's value (`ShardHash`) picks one of `buckets`, and each
    /// bucket has an owner.
    case hash(column: String, buckets: HashBuckets)
    /// Half-open ranges `[lo, hi)`, in file order.
    case ranges(column: String, ranges: [ShardRange])
    /// The row lives with the `model` row whose primary key equals this row's `via` column.
    case parent(model: String, via: String)

    /// The column of this model that decides placement.
    package var column: String {
        switch self {
        case .map(let column, _, _), .hash(let column, _), .ranges(let column, _): column
        case .parent(_, let via): via
        }
    }
}

/// The buckets of a `hash` rule (config.md): `bucket = hash mod count`, each owned by one
/// shard. The count never changes once a model is placed; owners change only by a move.
package struct HashBuckets: Sendable, Equatable {
    /// The owner of each bucket, by bucket number.
    package var owners: [String]

    /// The most buckets a model may have (their owners are kept in memory and in state_dir).
    package static let maximumCount = 1 << 20

    package var count: Int { owners.count }

    /// `count` buckets, bucket b on `shards[b mod shards.count]`: the placement of
    /// `hash mod (number of shards)` whenever `count` is a multiple of it.
    package init(count: Int, shards: [String]) {
        owners = (0..<count).map { shards[$0 % shards.count] }
    }

    package init(owners: [String]) {
        self.owners = owners
    }

    /// The bucket of a value; nil for a value without a hash (null, real).
    package func bucket(of value: ShardValue) -> Int? {
        ShardHash.hash(value).map { Int($0 % UInt64(owners.count)) }
    }

    /// The owner of a value's bucket.
    package func owner(of value: ShardValue) -> String? {
        bucket(of: value).map { owners[$0] }
    }

    /// Buckets per owner.
    package var countsByOwner: [String: Int] {
        owners.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }
}

/// One `[lo, hi, "shard"]` entry of `shard_by.ranges`.
package struct ShardRange: Sendable, Equatable {
    package var lower: ShardValue
    package var upper: ShardValue
    package var shard: String

    package init(lower: ShardValue, upper: ShardValue, shard: String) {
        self.lower = lower
        self.upper = upper
        self.shard = shard
    }

    package func contains(_ value: ShardValue) -> Bool {
        !(value < lower) && value < upper
    }
}

/// `[models.NAME.relationships.REL]`.
package struct Relationship: Sendable, Equatable {
    package enum Kind: String, Sendable, Equatable {
        /// The foreign key is on this model and points at the other model's primary key.
        case toOne = "to_one"
        /// The foreign key is on the other model and points at this model's primary key.
        case toMany = "to_many"
    }

    package var name: String
    package var model: String
    package var foreignKey: String
    package var kind: Kind

    package init(name: String, model: String, foreignKey: String, kind: Kind) {
        self.name = name
        self.model = model
        self.foreignKey = foreignKey
        self.kind = kind
    }
}
