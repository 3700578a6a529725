import Foundation
import NIOCore

/// A session with the daemon: one connection, one identity map, one transaction at a time,
/// like a SQLAlchemy `Session` over sharded tables.
///
/// ```swift
/// let session = try await ShardSession.connect()
/// let tokyo = try await session.add(WeatherLocation(continent: "Asia", city: "Tokyo"))
/// try await session.commit()
/// let hot = try await session.query(Report.self).where(Column("temperature") >= 80).all()
/// ```
///
/// A session is safe to use from many tasks at once: their requests are pipelined on its one
/// connection and each answer goes to its own request. Cancelling a waiting task makes it throw
/// `CancellationError` at once; the request still runs on the daemon (its answer is dropped).
/// Everything else fails with `ShardError`.
///
/// Closing the session (or dropping the last reference to it) closes the connection; the daemon
/// then rolls back what was not committed.
public final class ShardSession: Sendable {
    /// The socket the session is connected to.
    public let socketPath: String
    /// What the daemon said to `hello`: its version, this session's number, the shards and models.
    public let server: ServerInfo
    let connection: ShardConnection

    private init(connection: ShardConnection, server: ServerInfo) {
        self.socketPath = connection.socketPath
        self.connection = connection
        self.server = server
    }

    /// Connects to the daemon and says `hello`.
    ///
    /// - Parameters:
    ///   - socketPath: the daemon's socket; by default `defaultSocketPath()`:
    ///     `$SHARDD_SOCKET`, else the `[server] socket` of `./shards.conf`, else `./shardd.sock`.
    ///   - client: a name for this program, which the daemon may log.
    /// - Throws: `ShardError` `cannot_connect` (naming the path) when nothing listens there;
    ///   the daemon's error when it refuses the connection (`too_many_connections`, `forbidden`).
    public static func connect(socketPath: String? = nil, client: String = "ShardClient") async throws -> ShardSession {
        let path = socketPath ?? defaultSocketPath()
        let connection = try await ShardConnection.connect(to: path)
        do {
            let hello = try await perform(on: connection, "hello", [("client", .string(client))])
            return ShardSession(connection: connection, server: try ServerInfo(hello: hello))
        } catch {
            connection.close()
            throw error
        }
    }

    /// The socket path used when `connect` is given none: `$SHARDD_SOCKET`, else the
    /// `[server] socket` of `./shards.conf` (relative to that file's directory), else `./shardd.sock`.
    public static func defaultSocketPath() -> String {
        defaultSocketPath(environment: ProcessInfo.processInfo.environment,
                          currentDirectory: FileManager.default.currentDirectoryPath)
    }

    /// The socket path `connect` would use with this environment and working directory
    /// (`SHARDD_SOCKET`, else `shards.conf` in `currentDirectory`, else `shardd.sock` there).
    public static func defaultSocketPath(environment: [String: String], currentDirectory: String) -> String {
        SocketPath.resolve(environment: environment, currentDirectory: currentDirectory)
    }

    /// Closes the connection. Requests still waiting fail with `connection_lost`; the daemon
    /// rolls back the open transaction.
    public func close() {
        connection.close()
    }

    /// An executor on the thread where this session's answers arrive.
    ///
    /// A task that sends many requests on this session runs cheaper under it: each answer
    /// resumes the task on that same thread instead of waking another one.
    /// ```swift
    /// let rows = try await withTaskExecutorPreference(session.taskExecutor) {
    ///     try await session.query(Report.self).all()
    /// }
    /// ```
    /// The executor runs on the client's network thread: keep long computations off it.
    public var taskExecutor: any TaskExecutor { connection.taskExecutor }

    /// The dynamic API: every op of the protocol with column names and `ShardValue`s, answers
    /// as `JSONValue`, for programs without model types (such as `shardctl`).
    public var dynamic: DynamicSession { DynamicSession(session: self) }

    /// Checks that the daemon answers (`ping`).
    public func ping() async throws {
        let answer = try await perform("ping")
        guard case .bool(true)? = answer["pong"] else { throw ShardError.invalidResponse("to ping has no pong") }
    }

    // MARK: - Requests

    /// Sends `{"op": op, ...arguments}` and returns the answer's object.
    /// - Throws: the daemon's error as `ShardError`, `connection_lost`, or `CancellationError`.
    func perform(_ op: String, _ arguments: [(key: String, value: JSONValue)] = []) async throws -> JSONObject {
        try await Self.perform(on: connection, op, arguments)
    }

    private static func perform(on connection: ShardConnection, _ op: String, _ arguments: [(key: String, value: JSONValue)]) async throws -> JSONObject {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128)
        RequestEnvelope.write(op: op, arguments: arguments, into: &bytes)
        let line = try await connection.request(ByteBuffer(bytes: bytes))
        return try line.withUnsafeReadableBytes { (bytes) throws(ShardError) in try ResponseLine.read(bytes, op: op) }
    }
}
