import Foundation
import NIOCore
import NIOPosix
import ShardTransport

/// The daemon's socket transport with no session behind it, for scripts/bench/floor.py: the
/// same event loops (`MultiThreadedEventLoopGroup.singleton`) and line framing
/// (`LineFrameDecoder`), each line answered with the ping's answer. It measures what a
/// request costs before shardd does anything with it, the floor of an epoll server.
///
/// `lineecho SOCKET [--task]`: with `--task` the answer is written from a task on the
/// connection's event loop (`EventLoopTaskExecutor`), the hop every request of the daemon
/// makes to its session's task; without it, from `channelRead`. Prints `ready` once bound.
@main
enum LineEcho {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let path = arguments.first(where: { !$0.hasPrefix("--") }) else {
            FileHandle.standardError.write(Data("usage: lineecho SOCKET [--task]\n".utf8))
            exit(2)
        }
        let hop = arguments.contains("--task")
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LineFrameDecoder()), LineAnswerer(hop: hop))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        try await server.closeFuture.get()
    }
}

/// Answers each frame with `{"ok":true,"pong":true}`, at once or from the connection's task.
final class LineAnswerer: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    static let answer = Array(#"{"ok":true,"pong":true}"#.utf8) + [UInt8(ascii: "\n")]
    private let hop: Bool
    private var frames: AsyncStream<Frame>.Continuation?

    init(hop: Bool) {
        self.hop = hop
    }

    func channelActive(context: ChannelHandlerContext) {
        if hop {
            let (stream, continuation) = AsyncStream<Frame>.makeStream()
            frames = continuation
            let channel = context.channel
            Task(executorPreference: EventLoopTaskExecutor(channel.eventLoop)) {
                for await _ in stream {
                    channel.writeAndFlush(channel.allocator.buffer(bytes: LineAnswerer.answer), promise: nil)
                }
            }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let frames {
            frames.yield(unwrapInboundIn(data))
        } else {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: LineAnswerer.answer)), promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        frames?.finish()
        context.fireChannelInactive()
    }
}
