import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import ShardCore
import ShardProtocol
import Synchronization

/// `GET /metrics` and `GET /health` over HTTP/1 on `metrics_listen` (protocol.md 15).
///
/// Bound before the daemon recovers and migrates, so that `/health` answers 503 "starting"
/// from the first moment; the metrics come once the shards are prepared (`attach`). As a service
/// listed before the socket server, it stops after it: `/health` answers 503 "stopping"
/// while the sessions finish.
package final class MetricsEndpoint: Service, Sendable {
    private let channel: Channel
    private let phase: ServingPhase
    /// The daemon, once it serves.
    private let served = Served()

    private final class Served: Sendable {
        let context = Mutex<ServerContext?>(nil)
    }

    /// Binds `address`. - Throws: when it cannot (in use, not an address of this machine).
    package init(address: ListenAddress, phase: ServingPhase, logger: Logger) async throws {
        self.phase = phase
        let served = self.served
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(phase: phase, context: { served.context.withLock { $0 } }))
                }
            }
        do {
            channel = try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch {
            throw SocketFile.Failure(description: "cannot listen on \(address) ([server] metrics_listen): \(error)")
        }
        logger.info("metrics on http://\(address)/metrics, health on /health")
    }

    /// From now on `/metrics` answers with `context`'s metrics.
    package func attach(_ context: ServerContext) {
        served.context.withLock { $0 = context }
    }

    package func run() async throws {
        try? await gracefulShutdown()
        try? await channel.close().get()
    }
}

/// One HTTP connection's requests: the two routes, 404 for others, 405 for other methods.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let phase: ServingPhase
    private let context: @Sendable () -> ServerContext?
    private var head: HTTPRequestHead?

    init(phase: ServingPhase, context: @escaping @Sendable () -> ServerContext?) {
        self.phase = phase
        self.context = context
    }

    func channelRead(context channelContext: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, type, body) = answer(head)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            let response = HTTPResponseHead(version: head.version, status: status, headers: headers)
            channelContext.write(wrapOutboundOut(.head(response)), promise: nil)
            if head.method != .HEAD {
                channelContext.write(wrapOutboundOut(.body(.byteBuffer(channelContext.channel.allocator.buffer(string: body)))), promise: nil)
            }
            let keepAlive = head.isKeepAlive
            channelContext.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channelContext.close(promise: nil) }
            }
        }
    }

    private func answer(_ head: HTTPRequestHead) -> (HTTPResponseStatus, String, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path == "/metrics" || path == "/health" else {
            return (.notFound, "text/plain; charset=utf-8", "not found: this endpoint serves /metrics and /health\n")
        }
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", "\(path) answers GET only\n")
        }
        let now = phase.now
        let server = context()
        if path == "/health" {
            var shards: [(String, JSONValue)] = []
            for shard in server?.shards.shards ?? [] { shards.append((shard.name, .string(shard.health.isDown ? "down" : "up"))) }
            let body = JSONValue.object(JSONObject([("status", .string(now.name)), ("shards", .object(JSONObject(shards)))])).serialized
            return (now == .serving ? .ok : .serviceUnavailable, "application/json", body + "\n")
        }
        guard let server else {
            return (.serviceUnavailable, "text/plain; charset=utf-8", "shardd is \(now.name): metrics come once its shards are prepared\n")
        }
        return (.ok, "text/plain; version=0.0.4; charset=utf-8", server.metricsText())
    }
}
