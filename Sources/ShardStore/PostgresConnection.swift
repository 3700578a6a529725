import CLibPQ
import ShardCore
import ShardProtocol

/// One libpq connection to a PostgreSQL shard: a `PGconn`, finished once in `close()` or
/// `deinit`, and the statements prepared on it.
///
/// Every call blocks; the pool only calls it on the connection's own dispatch queue.
package final class PostgresConnection: ShardConnection {
    /// The shard's name, for errors.
    let shard: String
    private(set) var handle: OpaquePointer?
    private var prepared: [PreparedKey: String] = [:]
    /// Cached keys, oldest first, so that the cache can drop its oldest entry when full.
    private var preparedOrder: [PreparedKey] = []
    private var preparedCount = 0
    var broken = false
    /// Set when a statement of the open transaction changed a row.
    private(set) package var hasChanges = false

    /// Raw SQL from clients may be all different: past this many statements the oldest is
    /// deallocated so that neither side grows without bound.
    package static let preparedLimit = 256

    /// What the session is set to: UTC so that timestamps in text form are UTC, ISO so that
    /// they parse.
    static let sessionOptions = "-c TimeZone=UTC -c DateStyle=ISO,YMD"

    private init(handle: OpaquePointer, shard: String) {
        self.handle = handle
        self.shard = shard
    }

    deinit {
        close()
    }

    package var isBroken: Bool { broken || handle == nil }

    /// True while a transaction block is open (or failed and not yet rolled back).
    package var isInTransaction: Bool {
        guard let handle else { return false }
        return PQtransactionStatus(handle) != PQTRANS_IDLE
    }

    /// Nothing to free: libpq keeps no cache beyond the prepared statements' names.
    package func releaseMemory() {}

    package func waitingForLocks<T>(atMostMs ms: Int, _ body: () throws -> T) throws -> T {
        // Set for the session, not LOCAL: `body` opens and ends its own transactions.
        try execute("SET lock_timeout = \(ms)")
        defer { try? execute("RESET lock_timeout") }
        return try body()
    }

    package func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
        prepared = [:]
        preparedOrder = []
    }

    // MARK: - Connecting

    /// Opens a connection to the database at `uri` (a libpq URI or conninfo string).
    ///
    /// The URI's own settings win over the defaults (`connect_timeout=5`,
    /// `application_name=shardd`); the client encoding is always UTF-8 and the session
    /// time zone always UTC.
    /// - Throws: `shard_unavailable` with libpq's reason (never the password).
    /// - Parameter statementTimeoutMs: the session's `statement_timeout` (a statement running
    ///   longer is cancelled by the server, SQLSTATE 57014, `timeout`); nil leaves the server's.
    /// - Parameter requirePreparedTransactions: refuse a server whose
    ///   `max_prepared_transactions` is 0 (atomic commits need prepared transactions).
    package static func connect(uri: String, shard: String, statementTimeoutMs: Int? = nil,
                                requirePreparedTransactions: Bool = false) throws(BackendError) -> PostgresConnection {
        let info = try ConnectionInfo(uri: uri, shard: shard)
        func unavailable(_ reason: String) -> BackendError {
            BackendError(
                .unreachable, shard: shard,
                "cannot connect to PostgreSQL at \(ShardLocation.redactPassword(in: uri)): \(info.scrub(reason))")
        }
        // Defaults before dbname (the expanded URI overrides them), forced settings after it.
        var parameters = [("connect_timeout", "5"), ("application_name", "shardd"), ("dbname", uri)]
        parameters.append(("client_encoding", "UTF8"))
        if !info.hasOptions {
            parameters.append(("options", sessionOptions))
        }
        let handle = withCStringArray(parameters.map(\.0)) { keywords in
            withCStringArray(parameters.map(\.1)) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let handle else { throw unavailable("libpq could not allocate a connection") }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = errorMessage(handle)
            PQfinish(handle)
            throw unavailable(reason.isEmpty ? "the connection failed" : reason)
        }
        // Notices ("relation already exists, skipping") would go to stderr otherwise.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)

        let connection = PostgresConnection(handle: handle, shard: shard)
        let encoding = parameterStatus(handle, "server_encoding")
        guard encoding == "UTF8" else {
            connection.close()
            throw unavailable(
                "the database's encoding is \(encoding ?? "unknown"), not UTF8, so it cannot hold every text value; "
                    + "create it with ENCODING 'UTF8'")
        }
        if let datetimes = parameterStatus(handle, "integer_datetimes"), datetimes != "on" {
            connection.close()
            throw unavailable("the server does not use integer timestamps (integer_datetimes is \(datetimes))")
        }
        if let statementTimeoutMs {
            do {
                try connection.execute("SET statement_timeout = \(statementTimeoutMs)")
            } catch {
                connection.close()
                throw unavailable("cannot set statement_timeout: \(error.message)")
            }
        }
        if info.hasOptions {
            do {
                try connection.execute("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, YMD'")
            } catch {
                connection.close()
                throw unavailable("cannot set the session time zone to UTC: \(error.message)")
            }
        }
        if requirePreparedTransactions {
            let setting: ShardValue?
            do {
                setting = try connection.run(SQLDialect.maxPreparedTransactions).rows.first?.first
            } catch {
                connection.close()
                throw error
            }
            if setting == .int(0) {
                connection.close()
                throw BackendError(.refused, shard: shard, PostgresConnection.noPreparedTransactions)
            }
        }
        return connection
    }

    /// Why a server without prepared transactions cannot be a shard of atomic commits, and
    /// both remedies.
    package static let noPreparedTransactions = "max_prepared_transactions is 0 on this PostgreSQL server, and commit = \"two_phase\" (the default) needs prepared transactions: raise it in postgresql.conf (e.g. max_prepared_transactions = 64, then restart PostgreSQL), or set commit = \"best_effort\" in [server] of shards.conf (commits across shards are then not atomic)"

    static func errorMessage(_ handle: OpaquePointer) -> String {
        guard let message = PQerrorMessage(handle) else { return "" }
        return trimmed(String(cString: message))
    }

    private static func parameterStatus(_ handle: OpaquePointer, _ name: String) -> String? {
        PQparameterStatus(handle, name).map { String(cString: $0) }
    }

    // MARK: - Statements

    package func run(_ statement: Statement) throws(BackendError) -> QueryResult {
        let handle = try liveHandle(sql: statement.sql)
        let parameters = try statement.storableParams(shard: shard).map(\.postgresParameter)
        let key = PreparedKey(sql: statement.sql, types: parameters.map(\.type.rawValue))
        let resultFormat: Int32 = statement.resultTypes == nil ? 0 : 1

        var name = try preparedName(for: key, handle)
        var result = execPrepared(handle, name, parameters, resultFormat: resultFormat)
        if Self.state(of: result) == "26000" {
            // Deallocated behind the cache's back (a DEALLOCATE or DISCARD ALL it did not see).
            forget(key)
            // In a transaction the failure has aborted it; preparing again would only fail again.
            if PQtransactionStatus(handle) != PQTRANS_INERROR {
                PQclear(result)
                name = try preparedName(for: key, handle)
                result = execPrepared(handle, name, parameters, resultFormat: resultFormat)
            }
        }
        defer { PQclear(result) }
        guard let result, [PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY].contains(PQresultStatus(result)) else {
            throw failure(result, sql: statement.sql)
        }
        if Self.deallocates(statement.sql) { forgetAll() }
        noteChanges(result)
        return try decode(result, statement)
    }

    /// In a savepoint made read-only and always rolled back to: PostgreSQL itself refuses a
    /// write (SQLSTATE 25006), and the setting does not outlive the statement.
    package func runReadOnly(_ statement: Statement) throws(BackendError) -> QueryResult {
        guard isInTransaction else {
            try execute("BEGIN READ ONLY")
            defer { try? execute("ROLLBACK") }
            return try run(statement)
        }
        try execute("SAVEPOINT shardd_read_only; SET LOCAL transaction_read_only = on")
        defer { try? execute("ROLLBACK TO SAVEPOINT shardd_read_only; RELEASE SAVEPOINT shardd_read_only") }
        return try run(statement)
    }

    package func begin(recordingChanges: Bool) throws(BackendError) {
        try execute("BEGIN")
        hasChanges = false
    }

    package func commit() throws(BackendError) {
        try execute("COMMIT")
        hasChanges = false
    }

    package func rollback() throws(BackendError) {
        defer { hasChanges = false }
        try execute("ROLLBACK")
    }

    /// Whether a statement changed rows, from its command tag (`INSERT 0 3`, `UPDATE 2`,
    /// `DELETE 0`, `MERGE 1`, `COPY 5`): the server's own count.
    private func noteChanges(_ result: OpaquePointer) {
        guard !hasChanges, let tag = PQcmdStatus(result) else { return }
        let words = String(cString: tag).split(separator: " ")
        guard let verb = words.first, ["INSERT", "UPDATE", "DELETE", "MERGE", "COPY"].contains(verb),
              let count = words.last.flatMap({ Int($0) }), count > 0 else { return }
        hasChanges = true
    }

    package func execute(_ sql: String) throws(BackendError) {
        let handle = try liveHandle(sql: sql)
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            if Self.deallocates(sql) { forgetAll() }
            if let result { noteChanges(result) }
        default:
            throw failure(result, sql: sql)
        }
    }

    private func liveHandle(sql: String) throws(BackendError) -> OpaquePointer {
        guard let handle, !broken else {
            throw BackendError(.unreachable, shard: shard, "the connection is closed or was lost", sql: sql)
        }
        return handle
    }

    /// The name of the prepared statement for `key`, preparing it when it is not cached.
    func preparedName(for key: PreparedKey, _ handle: OpaquePointer) throws(BackendError) -> String {
        if let name = prepared[key] { return name }
        if prepared.count >= Self.preparedLimit { evictOldest(handle) }
        preparedCount += 1
        let name = "s\(preparedCount)"
        let result = key.types.withUnsafeBufferPointer { types in
            PQprepare(handle, name, key.sqlText, Int32(types.count), types.baseAddress)
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw failure(result, sql: key.sqlText)
        }
        prepared[key] = name
        preparedOrder.append(key)
        return name
    }

    private func evictOldest(_ handle: OpaquePointer) {
        // An aborted transaction refuses DEALLOCATE too; the cache then stays over the limit
        // until the next statement after the rollback.
        guard PQtransactionStatus(handle) != PQTRANS_INERROR, let oldest = preparedOrder.first,
            let name = prepared[oldest]
        else { return }
        let result = PQexec(handle, "DEALLOCATE \(SQLDialect.quote(name))")
        defer { PQclear(result) }
        if PQresultStatus(result) == PGRES_COMMAND_OK {
            forget(oldest)
        }
    }

    func forget(_ key: PreparedKey) {
        prepared[key] = nil
        preparedOrder.removeAll { $0 == key }
    }

    private func forgetAll() {
        prepared = [:]
        preparedOrder = []
    }

    /// Whether `sql` deallocates prepared statements (`DEALLOCATE ...`, `DISCARD ALL`).
    /// Only the first few bytes are looked at: this runs for every statement.
    private static func deallocates(_ sql: String) -> Bool {
        let head = sql.utf8.drop(while: { $0 == 32 || (9...13).contains($0) }).prefix(24)
        let words = String(decoding: head, as: UTF8.self).uppercased()
            .split(whereSeparator: { $0.isWhitespace || $0 == ";" }).prefix(2)
        return words.first == "DEALLOCATE" || Array(words) == ["DISCARD", "ALL"]
    }

    private func execPrepared(
        _ handle: OpaquePointer, _ name: String, _ parameters: [(type: PostgresType, bytes: [UInt8]?)],
        resultFormat: Int32
    ) -> OpaquePointer? {
        Self.withParameters(parameters) { count, values, lengths, formats in
            PQexecPrepared(handle, name, count, values, lengths, formats, resultFormat)
        }
    }

    /// The parameters as libpq takes them (binary, with their lengths), for one call.
    static func withParameters<R>(
        _ parameters: [(type: PostgresType, bytes: [UInt8]?)],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
    ) -> R {
        let total = parameters.reduce(0) { $0 + ($1.bytes?.count ?? 0) }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 8)
        defer { storage.deallocate() }
        var values: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        var offset = 0
        for parameter in parameters {
            guard let bytes = parameter.bytes else {
                values.append(nil)
                lengths.append(0)
                continue
            }
            let start = storage.baseAddress! + offset
            bytes.withUnsafeBytes { start.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(start), byteCount: $0.count) }
            values.append(UnsafePointer(start.assumingMemoryBound(to: CChar.self)))
            lengths.append(Int32(bytes.count))
            offset += bytes.count
        }
        let formats = [Int32](repeating: 1, count: parameters.count)
        return values.withUnsafeBufferPointer { values in
            lengths.withUnsafeBufferPointer { lengths in
                formats.withUnsafeBufferPointer { formats in
                    body(Int32(parameters.count), values.baseAddress, lengths.baseAddress, formats.baseAddress)
                }
            }
        }
    }

    // MARK: - Results

    func decode(_ result: OpaquePointer, _ statement: Statement) throws(BackendError) -> QueryResult {
        let fieldCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<fieldCount).map { PostgresType(rawValue: PQftype(result, Int32($0))) }
        if let wanted = statement.resultTypes, fieldCount > 0, wanted.count != fieldCount {
            throw BackendError(
                .refused, shard: shard,
                "the statement returns \(fieldCount) columns but \(wanted.count) result types were given",
                sql: statement.sql)
        }
        var rows: [[ShardValue]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [ShardValue] = []
            values.reserveCapacity(fieldCount)
            for column in 0..<fieldCount {
                let r = Int32(row), c = Int32(column)
                if PQgetisnull(result, r, c) != 0 {
                    values.append(.null)
                    continue
                }
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, r, c), count: Int(PQgetlength(result, r, c)))
                if let wanted = statement.resultTypes {
                    do {
                        values.append(try ShardValue(postgresBinary: bytes, type: types[column], as: wanted[column]))
                    } catch {
                        throw BackendError(
                            .unstorable, shard: shard, "column \(columns[column]): \(error.reason)", sql: statement.sql)
                    }
                } else {
                    values.append(ShardValue(postgresText: bytes, type: types[column]))
                }
            }
            rows.append(values)
        }
        let affected = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return QueryResult(columns: columns, rows: rows, rowsAffected: affected)
    }

    // MARK: - Errors

    static func state(of result: OpaquePointer?) -> String? {
        guard let result, let field = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) else { return nil }
        return String(cString: field)
    }

    /// Maps a failed result (or a nil one: the connection could not send) to a `BackendError`.
    ///
    /// A lost connection marks this connection broken so that the pool drops it.
    func failure(_ result: OpaquePointer?, sql: String) -> BackendError {
        let state = Self.state(of: result)
        var message: String?
        if let result, let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))) {
            message = String(cString: primary)
        }
        if message == nil || message!.isEmpty, let result, let full = PQresultErrorMessage(result) {
            message = trimmed(String(cString: full))
        }
        if message == nil || message!.isEmpty, let handle {
            message = Self.errorMessage(handle)
        }
        let lost = handle == nil || PQstatus(handle) == CONNECTION_BAD
        let cause = lost ? .unreachable : Self.cause(of: state)
        if cause == .unreachable { broken = true }
        let text = message.flatMap { $0.isEmpty ? nil : $0 } ?? "the statement failed without a message"
        return BackendError(cause, shard: shard, cause == .unreachable && lost ? "connection lost: \(text)" : text,
                          backendCode: state, sql: sql)
    }

    /// What a SQLSTATE means to the daemon: the one place that decides it.
    static func cause(of state: String?) -> BackendError.Cause {
        switch state {
        case let s? where s.hasPrefix("08") || s.hasPrefix("57P"):
            // Connection exceptions, and the server ending the session (shutdown, crash).
            .unreachable
        case "25006":
            // read_only_sql_transaction: a write where only reads may run.
            .notReadOnly
        case "42P07", "42710":
            // duplicate_table, duplicate_object: a CREATE another session made first.
            .exists
        case let s? where s.hasPrefix("23"):
            .constraint
        case "57014", "55P03":
            // Cancelled (statement_timeout) or a lock not granted in time (lock_timeout).
            .timedOut
        case let s? where s.hasPrefix("22"):
            .unstorable
        default:
            .refused
        }
    }
}

/// A prepared statement's identity: its SQL by bytes (Swift's `String ==` would equate
/// canonically equivalent text, which PostgreSQL does not) and its parameter types.
struct PreparedKey: Hashable {
    var sql: [UInt8]
    var types: [Oid]
    var sqlText: String

    init(sql: String, types: [Oid]) {
        self.sql = Array(sql.utf8)
        self.types = types
        self.sqlText = sql
    }

    static func == (lhs: PreparedKey, rhs: PreparedKey) -> Bool {
        lhs.sql == rhs.sql && lhs.types == rhs.types
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(sql)
        hasher.combine(types)
    }
}

/// What the connection needs to know about a URI before connecting.
private struct ConnectionInfo {
    /// The URI sets `options` itself, so ours would override it.
    var hasOptions = false
    /// Strings that must not appear in a message: the password, decoded and as written.
    var secrets: [String] = []
    var uri: String

    init(uri: String, shard: String) throws(BackendError) {
        self.uri = uri
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(uri, &error) else {
            var reason = "libpq cannot parse the connection URI"
            if let error {
                reason = trimmed(String(cString: error))
                PQfreemem(error)
            }
            self.secrets = ConnectionInfo.passwordsWritten(in: uri)
            throw BackendError(
                .unreachable, shard: shard,
                "cannot connect to PostgreSQL at \(ShardLocation.redactPassword(in: uri)): \(scrub(reason))")
        }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            let name = String(cString: keyword)
            if let value = option.pointee.val.map({ String(cString: $0) }), !value.isEmpty {
                if name == "options" { hasOptions = true }
                if name == "password" { secrets.append(value) }
            }
            option += 1
        }
        secrets += ConnectionInfo.passwordsWritten(in: uri)
    }

    /// The password as it is written in the URI (percent-encoded), found the way
    /// `ShardLocation.redactPassword` finds it.
    private static func passwordsWritten(in uri: String) -> [String] {
        var found: [String] = []
        if let schemeEnd = uri.firstRange(of: "://") {
            let rest = uri[schemeEnd.upperBound...]
            let authority = rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex)]
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                found.append(String(authority[authority.index(after: colon)..<at]))
            }
        }
        if let query = uri.firstIndex(of: "?") {
            for parameter in uri[uri.index(after: query)...].split(separator: "&") where parameter.hasPrefix("password=") {
                found.append(String(parameter.dropFirst("password=".count)))
            }
        }
        return found.filter { !$0.isEmpty }
    }

    /// `reason` with the URI shown redacted and any password replaced by `***`.
    func scrub(_ reason: String) -> String {
        var out = reason.replacing(uri, with: ShardLocation.redactPassword(in: uri))
        for secret in secrets.sorted(by: { $0.count > $1.count }) {
            out = out.replacing(secret, with: "***")
        }
        return out
    }
}

private func trimmed(_ text: String) -> String {
    String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}

/// Runs `body` with a NULL-terminated array of C strings.
private func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies: [UnsafeMutablePointer<CChar>] = strings.map { string in
        let utf8 = string.utf8CString
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        utf8.withUnsafeBufferPointer { copy.initialize(from: $0.baseAddress!, count: $0.count) }
        return copy
    }
    defer { copies.forEach { $0.deallocate() } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
