import Testing
@testable import ShardServer

@Suite struct ReadAheadWindowTests {
    @Test func theGetsBehindTheCurrentOneAreLookedAtOnce() {
        var window = ReadAheadWindow()
        #expect(window.next(current: 1, queued: 3) == 2...4)
        for number in 2...4 { window.looked(at: number, isGet: true) }
        // Request 2 is handled: 3 and 4 were read ahead already, 5 and 6 arrived since.
        #expect(window.next(current: 2, queued: 4) == 5...6)
        #expect(window.next(current: 3, queued: 0) == nil)
    }

    @Test func nothingPastARequestThatIsNotAGetUntilItIsHandled() {
        var window = ReadAheadWindow()
        #expect(window.next(current: 1, queued: 5) == 2...6)
        window.looked(at: 2, isGet: true)
        window.looked(at: 3, isGet: false)
        #expect(window.next(current: 2, queued: 4) == nil, "3 (a write) is still ahead")
        // 3 was handled; 4 is the get being handled now: 5 and 6 may go.
        #expect(window.next(current: 4, queued: 2) == 5...6)
    }

    @Test func atMostDepthAheadOfTheCurrentGet() {
        var window = ReadAheadWindow()
        let depth = ReadAheadWindow.depth
        #expect(window.next(current: 1, queued: 100) == 2...(1 + depth))
        for number in 2...(1 + depth) { window.looked(at: number, isGet: true) }
        #expect(window.next(current: 2, queued: 99) == (2 + depth)...(2 + depth))
    }
}
