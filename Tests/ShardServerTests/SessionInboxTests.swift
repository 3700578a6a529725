import NIOCore
import ShardProtocol
import ShardTransport
import Testing
@testable import ShardServer

@Suite struct SessionInboxTests {
    func line(_ text: String) -> SessionInput { .frame(.line(ByteBuffer(string: text))) }

    func text(_ input: SessionInput?) -> String? {
        switch input {
        case .frame(.line(let buffer))?: String(buffer: buffer)
        case .frame(.tooLong)?: "tooLong"
        case .idleCheck(let after)?: "idle \(after)"
        case .abort(let error)?: "abort \(error.code)"
        case .events?: "events"
        case nil: nil
        }
    }

    @Test func queuedInputsComeInOrderThenTheRestAfterFinish() async {
        let inbox = SessionInbox()
        for i in 0..<2000 { inbox.yield(line("r\(i)")) }
        inbox.yield(.idleCheck(after: 7))
        inbox.finish()
        inbox.yield(line("after finish"))
        var got: [String] = []
        while let input = await inbox.next() { got.append(text(input)!) }
        #expect(got == (0..<2000).map { "r\($0)" } + ["idle 7"])
        #expect(await inbox.next() == nil)
    }

    @Test func aWaitingTaskGetsEachInputAsItComes() async {
        let inbox = SessionInbox()
        let reader = Task {
            var got: [String] = []
            while let input = await inbox.next() { got.append(text(input)!) }
            return got
        }
        for i in 0..<500 {
            inbox.yield(line("r\(i)"))
            if i % 7 == 0 { await Task.yield() }
        }
        inbox.finish()
        #expect(await reader.value == (0..<500).map { "r\($0)" })
    }

    @Test func finishWakesAWaitingTaskWithNil() async throws {
        let inbox = SessionInbox()
        let reader = Task { await inbox.next() }
        try await Task.sleep(for: .milliseconds(20))
        inbox.finish()
        #expect(text(await reader.value) == nil)
    }
}

@Suite struct SessionInboxPeekTests {
    func line(_ text: String) -> SessionInput { .frame(.line(ByteBuffer(string: text))) }
    func texts(_ frames: [Frame]) -> [String] {
        frames.map { if case .line(let buffer) = $0 { String(buffer: buffer) } else { "tooLong" } }
    }

    @Test func framesAreSeenWithoutBeingTakenAndOffsetsCountFramesOnly() async {
        let inbox = SessionInbox()
        for input in [line("a"), .idleCheck(after: 1), line("b"), .events, line("c"), line("d")] { inbox.yield(input) }
        #expect(texts(inbox.frames(at: 0..<2)) == ["a", "b"])
        #expect(texts(inbox.frames(at: 1..<3)) == ["b", "c"])
        #expect(texts(inbox.frames(at: 3..<10)) == ["d"])
        _ = await inbox.next()
        #expect(texts(inbox.frames(at: 0..<2)) == ["b", "c"])
    }

    @Test func nothingPastAnAbortIsSeen() {
        let inbox = SessionInbox()
        for input in [line("a"), .abort(ShardError(.transactionAborted, "moved")), line("b")] { inbox.yield(input) }
        #expect(texts(inbox.frames(at: 0..<5)) == ["a"])
    }
}
