import NIOCore

/// What the framing layer hands on: one line (a request, or an answer on the client's side),
/// or the news that a line outgrew its limit (protocol.md 1: `max_line_bytes`).
package enum Frame: Equatable, Sendable {
    /// One line without its `\n` (and without a `\r` before it). Blank lines never appear.
    case line(ByteBuffer)
    /// A line longer than the limit: answered with `line_too_long`, then the connection
    /// closes. Nothing after it is decoded.
    case tooLong
}

/// Splits a byte stream into lines of at most `maxLineBytes`, never buffering more than
/// that (plus one read) for a line that will be refused. The daemon reads requests with it,
/// the client library answers (without a limit: an answer is as long as its rows).
package struct LineFrameDecoder: ByteToMessageDecoder {
    package typealias InboundOut = Frame

    package let maxLineBytes: Int
    /// Where the search for `\n` resumes, so a long line is scanned once, not once per read.
    private var scanned = 0
    private var refused = false

    package init(maxLineBytes: Int = .max) {
        self.maxLineBytes = maxLineBytes
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if refused {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return .needMoreData
        }
        let view = buffer.readableBytesView
        let start = view.startIndex + scanned
        guard let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if view.count > maxLineBytes { refuse(context: context, &buffer) }
            return .needMoreData
        }
        scanned = 0
        var length = newline - view.startIndex
        let lineStart = buffer.readerIndex
        if length > 0 && view[newline - 1] == UInt8(ascii: "\r") { length -= 1 }
        if length > maxLineBytes {
            refuse(context: context, &buffer)
            return .needMoreData
        }
        let line = buffer.getSlice(at: lineStart, length: length)!
        buffer.moveReaderIndex(to: newline + 1)
        if line.readableBytes > 0 && !isBlank(line) {
            context.fireChannelRead(wrapInboundOut(.line(line)))
        }
        return .continue
    }

    package mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A last line without `\n` is still a request.
        while try decode(context: context, buffer: &buffer) == .continue {}
        if !refused && buffer.readableBytes > 0 {
            let line = buffer.readSlice(length: buffer.readableBytes)!
            if !isBlank(line) { context.fireChannelRead(wrapInboundOut(.line(line))) }
        }
        return .needMoreData
    }

    private mutating func refuse(context: ChannelHandlerContext, _ buffer: inout ByteBuffer) {
        refused = true
        buffer.moveReaderIndex(to: buffer.writerIndex)
        context.fireChannelRead(wrapInboundOut(.tooLong))
    }

    private func isBlank(_ line: ByteBuffer) -> Bool {
        line.readableBytesView.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
    }
}
