import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import ShardCore
import ShardProtocol
import ShardStore
import ShardTransport

/// The socket server: binds `[server] socket`, serves one session per connection, and on
/// graceful shutdown stops accepting, closes connections and removes the socket file.
package final class Server: Service {
    private let context: ServerContext

    package init(context: ServerContext) {
        self.context = context
    }

    /// Fails early, before any shard is touched, when another daemon owns `path`; removes
    /// a stale socket file.
    package static func claimSocket(_ path: String) throws {
        try SocketFile.clear(path)
    }

    package func run() async throws {
        let server = context.configuration.server
        let path = server.socket
        try SocketFile.clear(path)
        let serverContext = context
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            // Up to 4 MiB of answers may wait for a client that pipelines before it reads;
            // past that its session waits (and, stalled, is disconnected).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Read at each connection: a reload changes it for the next ones.
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LineFrameDecoder(maxLineBytes: serverContext.configuration.server.maxLineBytes)),
                        SessionHandler(context: serverContext)
                    )
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            // NIO's message names the system call, not the path.
            throw SocketFile.Failure(description: "cannot listen on \(path) ([server] socket): \(error); check that its directory exists and is writable by this user")
        }
        do {
            try SocketFile.setMode(path, server.socketMode)
        } catch {
            try? await channel.close().get()
            throw error
        }
        context.logger.info("listening on \(path)")
        context.phase.enter(.serving)
        try? await gracefulShutdown()
        context.phase.enter(.stopping)
        context.logger.info("shutting down: no new connections; finishing requests in flight")
        try? await channel.close().get()
        await FaultPoint.reach(FaultPoint.stopBeforeSessionsEnd)
        // Sessions answer what they already read, roll back open transactions, and end;
        // after a bound, the process exits anyway (the databases roll back what is left).
        for session in context.sessions { session.stop() }
        let deadline = ContinuousClock.now + .seconds(10)
        while !context.sessions.isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if !context.sessions.isEmpty {
            context.logger.warning("shutting down with \(context.sessions.count) session(s) still busy after 10 s")
        }
        SocketFile.removeIfOurs(path)
        context.logger.info("stopped")
    }
}

extension SocketFile {
    /// Removes the socket file at shutdown (only a socket: never another kind of file).
    static func removeIfOurs(_ path: String) {
        try? clear(path)
    }
}
