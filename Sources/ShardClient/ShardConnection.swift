import ShardTransport
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One socket connection to the daemon: requests pipelined in order, each answer handed to
/// the request it belongs to.
///
/// Requests from any task go into an outbox; one event-loop task at a time drains it, so that
/// requests sent together are written together and flushed once.
final class ShardConnection: Sendable {
    let socketPath: String
    private let channel: any Channel
    private let handler: NIOLoopBound<ResponseHandler>
    private let outbox = Mutex<[(slot: ResponseSlot, request: ByteBuffer)]>([])
    /// Runs tasks on the connection's event loop, where answers arrive.
    let taskExecutor: EventLoopTaskExecutor
    /// The streams of the session's subscriptions.
    let events: EventRouter

    private init(socketPath: String, channel: any Channel, handler: NIOLoopBound<ResponseHandler>, events: EventRouter) {
        self.events = events
        self.socketPath = socketPath
        self.channel = channel
        self.handler = handler
        self.taskExecutor = EventLoopTaskExecutor(channel.eventLoop)
    }

    /// Connects to the daemon's socket.
    /// - Throws: `ShardError` `cannot_connect` naming the path.
    static func connect(to socketPath: String) async throws(ShardError) -> ShardConnection {
        // The handler is made in the initializer and handed out through this box rather than
        // looked up after connecting: by then a daemon that refused the connection
        // (`too_many_connections`) may have closed it and emptied the pipeline.
        let made = Mutex<NIOLoopBound<ResponseHandler>?>(nil)
        let events = EventRouter()
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ResponseHandler(socketPath: socketPath, events: events)
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(LineFrameDecoder()), handler])
                    made.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(unixDomainSocketPath: socketPath).get()
        } catch {
            throw .cannotConnect(socketPath, reason: reason(error))
        }
        guard let handler = made.withLock({ $0 }) else {
            channel.close(promise: nil)
            throw .connectionLost(socketPath, reason: "the connection was set up without its handler")
        }
        return ShardConnection(socketPath: socketPath, channel: channel, handler: handler, events: events)
    }

    /// Nil when nothing listens at the path (no file, or a stale socket file), else what went wrong.
    private static func reason(_ error: any Error) -> String? {
        if let error = error as? IOError {
            switch error.errnoCode {
            case ENOENT, ECONNREFUSED: return nil
            default: return "\(error)"
            }
        }
        if let error = error as? SocketAddressError, case .unixDomainSocketPathTooLong = error {
            return "the path is longer than a Unix socket address allows"
        }
        return "\(error)"
    }

    /// Sends one request line (with its `\n`) and returns the answer line.
    ///
    /// If the task is cancelled while waiting, it gets `CancellationError` at once; the answer
    /// still arrives later and is dropped, so the connection stays in step.
    func request(_ line: ByteBuffer) async throws -> ByteBuffer {
        let slot = ResponseSlot()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                guard slot.install(continuation) else { return }
                let first = outbox.withLock { outbox in
                    outbox.append((slot: slot, request: line))
                    return outbox.count == 1
                }
                if first {
                    channel.eventLoop.execute { [self] in
                        let batch = outbox.withLock { outbox in
                            var batch: [(slot: ResponseSlot, request: ByteBuffer)] = []
                            swap(&batch, &outbox)
                            return batch
                        }
                        handler.value.send(batch)
                    }
                }
            }
        } onCancel: {
            slot.cancel()
        }
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Closes the connection; requests still waiting fail with `connection_lost`.
    func close() {
        channel.eventLoop.execute { [handler] in
            handler.value.close()
        }
    }

    /// Completes once the channel is closed.
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }
}
