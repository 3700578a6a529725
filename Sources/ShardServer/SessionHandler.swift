import NIOCore
import ShardCore
import ShardProtocol
import ShardTransport
import Synchronization

/// Feeds a connection's frames, in order, to its session's task, and writes each response.
///
/// Reading never waits for writing: responses queue in the channel, so a client may send
/// thousands of requests before it reads one without deadlocking the two sides.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    private let context: ServerContext
    private var inbox: SessionInbox?
    /// Frames read but not yet answered; past `pauseReadingAt` the socket is not read until
    /// the session catches up (a client that never reads its answers stalls itself only).
    private let queued = ManagedQueueCount()

    static let pauseReadingAt = 256
    static let resumeReadingAt = 32
    /// At most this many answers wait for one flush.
    static let answersPerWrite = 32
    /// The answer buffer is kept between requests up to this size.
    static let bytesPerWrite = 64 * 1024

    init(context: ServerContext) {
        self.context = context
    }

    private var admitted = false

    func channelActive(context channelContext: ChannelHandlerContext) {
        let channel = channelContext.channel
        let serverContext = context
        guard serverContext.admitConnection() else {
            // One error line, then close; the daemon goes on serving the others.
            var out: [UInt8] = []
            let limit = serverContext.configuration.server.maxConnections
            ResponseLine.failure(id: .null, ShardError(.tooManyConnections, "shardd already serves \(limit) connections (max_connections); try again later"), into: &out)
            let answer = channel.allocator.buffer(bytes: out)
            Task { await SessionHandler.answerThenClose(channel, answer) }
            serverContext.logger.warning("refused a connection: max_connections (\(limit)) reached")
            serverContext.metrics.count("shardd_connections_refused_total", [("reason", "max_connections")])
            return
        }
        admitted = true
        let inbox = SessionInbox()
        self.inbox = inbox
        let credentials = PeerCredentials.of(channel)
        let queued = self.queued
        Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) {
            // The kernel's word on who connected, before any request is read.
            let peer = try? await credentials.get()
            guard let peer, serverContext.allowedUIDs.contains(peer.uid) else {
                serverContext.logger.warning("refused a connection from uid \(peer.map { String($0.uid) } ?? "unknown") (allowed_uids)")
                serverContext.metrics.count("shardd_connections_refused_total", [("reason", "allowed_uids")])
                var out: [UInt8] = []
                ResponseLine.failure(id: .null, ShardError(.forbidden, "uid \(peer.map { String($0.uid) } ?? "unknown") may not use this shardd (allowed_uids); the connection is closed"), into: &out)
                await SessionHandler.answerThenClose(channel, channel.allocator.buffer(bytes: out))
                return
            }
            let session = Session(context: serverContext, peer: peer, stop: { inbox.finish() }, abort: { inbox.yield(.abort($0)) },
                                  events: { inbox.yield(.events) })
            session.upcoming = { inbox.frames(at: $0) }
            serverContext.logger.debug("session \(session.id) opened (pid \(peer.pid), uid \(peer.uid))")
            var out: [UInt8] = []
            let idleTimer = IdleTimer(limit: .milliseconds(serverContext.configuration.server.idleTransactionTimeoutMs)) { mark in
                inbox.yield(.idleCheck(after: mark))
            }
            defer { idleTimer.disarm() }
            var requests = 0
            var unflushed = 0
            let flush = DeferredFlush(channel)
            let stallLimit = Duration.milliseconds(serverContext.configuration.server.requestTimeoutMs)
            while let input = await inbox.next() {
                let frame: Frame
                switch input {
                case .frame(let received):
                    frame = received
                case .idleCheck(let after):
                    // Still idle since that request, and still in a transaction: end it.
                    if after == requests { await session.abortIdleTransaction() }
                    continue
                case .abort(let error):
                    await session.abortTransaction(error)
                    continue
                case .events:
                    SessionHandler.sendEvents(session.outbox, channel)
                    continue
                }
                requests += 1
                if queued.decrement() == SessionHandler.resumeReadingAt {
                    channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                }
                let keepOpen = await session.handle(frame, into: &out)
                let buffer = channel.allocator.buffer(bytes: out)
                out.removeAll(keepingCapacity: out.count <= SessionHandler.bytesPerWrite)
                if keepOpen {
                    // With more requests already read, written now and flushed when this task
                    // next waits (for a shard or for the next request): answers to pipelined
                    // requests handled back to back leave in one write, and no answer waits
                    // while the session waits. Otherwise flushed at once.
                    channel.write(buffer, promise: nil)
                    unflushed += 1
                    if queued.count == 0 || unflushed >= SessionHandler.answersPerWrite {
                        // Counted before the answers leave: a client that reads them and then
                        // scrapes sees its requests.
                        if queued.count == 0 { session.flushMetrics() }
                        channel.flush()
                        unflushed = 0
                        if !session.outbox.isEmpty { SessionHandler.sendEvents(session.outbox, channel) }
                    } else {
                        flush.schedule()
                    }
                    // Answers pile up unread: wait for the client, and give up on it past
                    // request_timeout_ms rather than hold its answers without bound.
                    if !channel.isWritable, !(await SessionHandler.waitUntilWritable(channel, for: stallLimit)) {
                        serverContext.logger.warning("session \(session.id): the client read no answers for \(stallLimit); disconnected")
                        serverContext.metrics.count("shardd_slow_clients_disconnected_total")
                        break
                    }
                } else {
                    await SessionHandler.answerThenClose(channel, buffer)
                    break
                }
                if session.transaction != nil {
                    idleTimer.arm(mark: requests)
                } else {
                    idleTimer.disarm()
                }
            }
            channel.flush()
            session.flushMetrics()
            await session.close()
            if channel.isActive {
                // The server is stopping (the client has not closed): requests sent after the
                // last one read may still be in the socket, and closing over unread input
                // resets the connection, so that the client reads "connection reset" instead
                // of its last answers and the end. Output first; the input read meanwhile is
                // dropped.
                await SessionHandler.answerThenClose(channel, channel.allocator.buffer(capacity: 0), patience: .milliseconds(200))
            }
            try? await channel.close().get()
            serverContext.logger.debug("session \(session.id) closed")
        }
        channelContext.fireChannelActive()
    }

    /// Sends a last answer, then closes so that the client surely reads it: output first,
    /// then, once the client has closed (or after `patience`), the rest. Closing a Unix socket
    /// with unread input resets it, and the reset can destroy the answer on its way.
    static func answerThenClose(_ channel: Channel, _ answer: ByteBuffer, patience: Duration = .seconds(2)) async {
        // Nothing here waits on a future: a client that reads nothing never completes its
        // writes (nor the output's close queued behind them), and a bound must still hold.
        if answer.readableBytes > 0 { channel.writeAndFlush(answer, promise: nil) }
        channel.close(mode: .output, promise: nil)
        let deadline = ContinuousClock.now + patience
        while channel.isActive, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        try? await channel.close().get()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        if queued.increment() == SessionHandler.pauseReadingAt {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        inbox?.yield(.frame(unwrapInboundIn(data)))
    }

    /// Writes the session's waiting event lines (protocol.md 12) between two responses, as
    /// far as the socket takes them; the rest wait in the outbox until the client reads
    /// (`EventOutbox.written`, `channelWritabilityChanged`), so that its bound, not the
    /// channel's buffer, holds them.
    static func sendEvents(_ outbox: EventOutbox, _ channel: Channel) {
        while channel.isWritable {
            var bytes: [UInt8] = []
            guard outbox.take(into: &bytes, limit: bytesPerWrite) > 0 else { return }
            let count = bytes.count
            let written = channel.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in outbox.written(count) }
            channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: written)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if admitted, context.channel.isWritable { inbox?.yield(.events) }
        context.fireChannelWritabilityChanged()
    }

    /// True once the channel can take writes again; false after `limit`.
    static func waitUntilWritable(_ channel: Channel, for limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        var pause = Duration.milliseconds(1)
        while !channel.isWritable {
            guard channel.isActive, ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(50))
        }
        return true
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The socket is gone: its place counts free now, even while its session cleans up.
        if admitted { self.context.connectionClosed() }
        admitted = false
        inbox?.finish()
        inbox = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.context.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }
}

/// What a session's task receives: request frames, and its own idle-transaction timer.
enum SessionInput {
    case frame(Frame)
    /// Sent `idle_transaction_timeout_ms` after the request with this sequence number.
    case idleCheck(after: Int)
    /// A move's switch needs the open transaction gone: roll it back, answer the next request with this.
    case abort(ShardError)
    /// Event lines wait in the session's outbox, or the socket takes writes again.
    case events
}

/// One flush of a channel, queued on its event loop behind the work already there: it runs
/// once the session's task (which runs on that loop) waits, however many answers it wrote.
final class DeferredFlush: Sendable {
    private let channel: any Channel
    private let pending = Atomic<Bool>(false)

    init(_ channel: any Channel) {
        self.channel = channel
    }

    func schedule() {
        guard !pending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        channel.eventLoop.execute { [self] in
            pending.store(false, ordering: .releasing)
            channel.flush()
        }
    }
}

/// A count shared by the event loop (which adds) and the session's task (which takes away).
final class ManagedQueueCount: Sendable {
    private let value = Atomic<Int>(0)

    /// The count after adding one.
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    /// The count after taking one away.
    func decrement() -> Int { value.subtract(1, ordering: .relaxed).newValue }
    /// Frames read and not yet taken by the session.
    var count: Int { value.load(ordering: .relaxed) }
}
