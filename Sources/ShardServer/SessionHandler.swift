import NIOCore
import ShardCore

/// Feeds a connection's frames, in order, to its session's task, and writes each response.
///
/// Reading never waits for writing: responses queue in the channel, so a client may send
/// thousands of requests before it reads one without deadlocking the two sides.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame

    private let context: ServerContext
    private var frames: AsyncStream<Frame>.Continuation?

    init(context: ServerContext) {
        self.context = context
    }

    func channelActive(context channelContext: ChannelHandlerContext) {
        let (stream, continuation) = AsyncStream<Frame>.makeStream()
        frames = continuation
        let channel = channelContext.channel
        let serverContext = context
        Task {
            let session = Session(context: serverContext)
            serverContext.logger.debug("session \(session.id) opened")
            var out: [UInt8] = []
            for await frame in stream {
                out.removeAll(keepingCapacity: true)
                let keepOpen = await session.handle(frame, into: &out)
                let buffer = channel.allocator.buffer(bytes: out)
                if keepOpen {
                    channel.writeAndFlush(buffer, promise: nil)
                } else {
                    try? await channel.writeAndFlush(buffer).get()
                    try? await channel.close().get()
                    break
                }
            }
            await session.close()
            serverContext.logger.debug("session \(session.id) closed")
        }
        channelContext.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        frames?.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        frames?.finish()
        frames = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.context.logger.debug("connection error: \(error)")
        context.close(promise: nil)
    }
}
