import NIOCore
import NIOEmbedded
import Testing
import ShardTransport

@Suite struct LineFrameDecoderTests {
    func frames(_ chunks: [String], max: Int = 16, close: Bool = false) throws -> [String] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: max)))
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(string: chunk))
        }
        if close { _ = try? channel.finish() }
        var out: [String] = []
        while let frame = try channel.readInbound(as: Frame.self) {
            switch frame {
            case .line(let buffer): out.append(String(buffer: buffer))
            case .tooLong: out.append("<too long>")
            }
        }
        if !close { _ = try channel.finish(acceptAlreadyClosed: true) }
        return out
    }

    @Test func splitsLinesAcrossReadsAndSkipsBlankOnes() throws {
        #expect(try frames(["{\"op\":", "\"ping\"}\n", "\n", "  \r\n", "{}\r\n{\"a\":1}\n"]) == ["{\"op\":\"ping\"}", "{}", "{\"a\":1}"])
    }

    @Test func aLineAtTheLimitPassesOneByteMoreIsRefusedAndNothingAfterIsRead() throws {
        let atLimit = String(repeating: "x", count: 16)
        #expect(try frames([atLimit + "\n"]) == [atLimit])
        #expect(try frames([atLimit + "\r\n"]) == [atLimit])
        #expect(try frames([atLimit + "y\n{}\n"]) == ["<too long>"])
        #expect(try frames(["{}\n" + atLimit, "yz", "\n{}\n"]) == ["{}", "<too long>"])
    }

    @Test func anEndlessLineIsRefusedWithoutWaitingForItsEnd() throws {
        #expect(try frames([String(repeating: "x", count: 10), String(repeating: "x", count: 10)]) == ["<too long>"])
    }

    @Test func aLastLineWithoutNewlineStillCounts() throws {
        #expect(try frames(["{}\n{\"op\":1}"], close: true) == ["{}", "{\"op\":1}"])
    }
}
