import NIOCore
import ShardTransport

/// The end of a connection's pipeline: writes requests and hands each answer line to the
/// oldest waiting request (the daemon answers in order, protocol.md 1).
///
/// Lives on its channel's event loop; the connection reaches it through `NIOLoopBound`.
final class ResponseHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private let socketPath: String
    /// Where event lines go (protocol.md 12): they answer no request.
    private let events: EventRouter
    /// Requests written and not yet answered, oldest first.
    private var pending = CircularBuffer<ResponseSlot>(initialCapacity: 16)
    /// Lines that came with no request waiting: the daemon's one last word before it closes
    /// (`too_many_connections`, `forbidden`); they answer the next requests.
    private var unsolicited = CircularBuffer<ByteBuffer>()
    private var context: ChannelHandlerContext?
    /// Set once the channel is closed: every later request fails with it.
    private var failure: ShardError?
    private var closedByClient = false

    init(socketPath: String, events: EventRouter) {
        self.socketPath = socketPath
        self.events = events
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        fail(lost())
    }

    /// Writes a batch of requests in order, registering their slots, then flushes once.
    func send(_ batch: [(slot: ResponseSlot, request: ByteBuffer)]) {
        var wrote = false
        for (slot, request) in batch {
            if let line = unsolicited.popFirst() {
                slot.resume(.success(line))
                continue
            }
            guard failure == nil, let context else {
                slot.resume(.failure(failure ?? lost()))
                continue
            }
            pending.append(slot)
            context.write(wrapOutboundOut(request), promise: nil)
            wrote = true
        }
        if wrote { context?.flush() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Answers have no length limit, so every frame is a line.
        guard case .line(let line) = unwrapInboundIn(data) else { return }
        if EventRouter.isEvent(line) {
            events.deliver(line)
            return
        }
        if let slot = pending.popFirst() {
            slot.resume(.success(line))
        } else {
            unsolicited.append(line)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(lost())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a broken pipe: the connection is over; channelInactive follows.
        fail(lost(reason: "\(error)"))
        context.close(promise: nil)
    }

    /// Closes the connection on the client's request; waiting requests fail.
    func close() {
        closedByClient = true
        fail(lost())
        context?.close(promise: nil)
    }

    private func lost(reason: String? = nil) -> ShardError {
        .connectionLost(socketPath, reason: closedByClient ? "the session was closed" : reason)
    }

    private func fail(_ error: ShardError) {
        if failure == nil { failure = error }
        events.fail(failure!)
        while let slot = pending.popFirst() {
            slot.resume(.failure(failure!))
        }
    }
}
