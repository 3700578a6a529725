import Testing
@testable import ShardStore

@Suite struct ReadBatchQueueTests {
    /// The queue behind a reference: `#expect` may not call a value's mutating methods.
    final class Queue {
        var state: ReadBatchQueue<Int>
        init(runners: Int, batchLimit: Int) { state = ReadBatchQueue(runners: runners, batchLimit: batchLimit) }
        func arrive() -> Bool { state.arrive() }
        func park(_ waiter: Int) -> Bool { state.park(waiter) }
        func park(contentsOf waiters: [Int]) -> Int { state.park(contentsOf: waiters) }
        func take(_ limit: Int) -> [Int] { state.take(limit) }
        func next() -> [Int] { state.next() }
    }

    @Test func readsRunAloneUntilEveryRunnerIsBusy() {
        let queue = Queue(runners: 2, batchLimit: 3)
        #expect(queue.arrive())
        #expect(queue.arrive())
        #expect(!queue.arrive(), "both runners run: the third read waits")
        #expect(queue.state.active == 2)
    }

    @Test func waitingReadsLeaveInBatchesOldestFirst() {
        let queue = Queue(runners: 1, batchLimit: 3)
        #expect(queue.arrive())
        for waiter in 1...5 { #expect(!queue.park(waiter)) }
        #expect(queue.take(2) == [1, 2], "the runner's own batch takes what waits, up to its room")
        #expect(queue.next() == [3, 4, 5])
        #expect(queue.state.active == 1)
        #expect(queue.next() == [], "nothing waits: the runner stops")
        #expect(queue.state.active == 0)
        #expect(queue.arrive(), "the next read runs at once")
    }

    @Test func aReadParkedAfterTheLastRunnerStoppedStartsOne() {
        let queue = Queue(runners: 1, batchLimit: 8)
        #expect(queue.arrive())
        #expect(queue.next() == [])  // the runner stops between the read's arrive and its park
        #expect(queue.park(7), "no runner is left: the parked read starts one")
        #expect(queue.state.active == 1)
        #expect(queue.next() == [7])
        #expect(queue.next() == [])
        #expect(queue.state.active == 0)
    }

    @Test func fewerRunnersAfterAResizeLetTheBusyOnesFinish() {
        let queue = Queue(runners: 3, batchLimit: 8)
        for _ in 0..<3 { #expect(queue.arrive()) }
        queue.state.runners = 1
        #expect(!queue.park(1))
        #expect(queue.next() == [1])
        #expect(queue.next() == [])
        #expect(queue.next() == [])
        #expect(queue.state.active == 1)
        #expect(!queue.arrive(), "still one runner above the new limit")
        #expect(queue.next() == [])
        #expect(queue.arrive())
    }

    @Test func readsParkedTogetherStartOneRunnerPerBatchWithinTheRunners() {
        let queue = Queue(runners: 2, batchLimit: 4)
        #expect(queue.park(contentsOf: [1, 2, 3]) == 1, "three reads fit one batch: one runner")
        #expect(queue.next() == [1, 2, 3])
        #expect(queue.park(contentsOf: Array(4...12)) == 1, "three batches' worth, but only one runner is free")
        #expect(queue.state.active == 2)
        #expect(queue.park(contentsOf: [13]) == 0, "both runners run: it waits")
        #expect(queue.next() == [4, 5, 6, 7])
    }
}
