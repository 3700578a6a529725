import Testing
@testable import ShardStore

/// The pool's decisions, driven event by event without a database (connections are numbers).
@Suite struct PoolStateMachineTests {
    typealias Pool = PoolStateMachine<Int>

    @Test func leaseOpensUpToTheSizeThenQueuesWaiters() {
        var pool = Pool(size: 2)
        guard case .open = pool.lease(1), case .open = pool.lease(2), case .wait = pool.lease(3), case .wait = pool.lease(4) else {
            Issue.record("expected open, open, wait, wait"); return
        }
        #expect(pool.openCount == 2 && pool.waiting == [3, 4])
        // A connection that comes back goes to the oldest waiter.
        guard case .hand(10, to: 3) = pool.release(10, reusable: true) else { Issue.record("not handed to 3"); return }
        guard case .hand(11, to: 4) = pool.release(11, reusable: true) else { Issue.record("not handed to 4"); return }
        guard case .keep = pool.release(10, reusable: true), case .keep = pool.release(11, reusable: true) else { Issue.record("not kept"); return }
        #expect(pool.idleCount == 2 && pool.openCount == 2 && pool.waiting.isEmpty)
        // The most recently returned is lent first (its caches are warm).
        guard case .use(11) = pool.lease(5), case .use(10) = pool.lease(6) else { Issue.record("not LIFO"); return }
    }

    @Test func aBrokenConnectionTakesTheIdleOnesWithItAndAWaiterRetries() {
        var pool = Pool(size: 3)
        for id in 1...3 { _ = pool.lease(id) }
        _ = pool.release(1, reusable: true)
        _ = pool.release(2, reusable: true)
        #expect(pool.idleCount == 2)
        guard case .close(let gone, retry: nil) = pool.release(3, reusable: false) else { Issue.record("expected close"); return }
        #expect(gone == [3, 1, 2], "the broken one and the idle ones (a restarted server lost them all)")
        #expect(pool.openCount == 0 && pool.idleCount == 0)
        // With the pool full, a waiter retries when a broken connection goes.
        for id in 4...6 { _ = pool.lease(id) }
        guard case .wait = pool.lease(7) else { Issue.record("expected wait"); return }
        guard case .close([4], retry: 7?) = pool.release(4, reusable: false) else { Issue.record("expected close and retry"); return }
        #expect(pool.openCount == 2 && pool.waiting.isEmpty)
        guard case .open = pool.lease(7) else { Issue.record("the retrying waiter opens one"); return }
    }

    @Test func waitersTimeOutOrAreCancelledOnceAndNeverAfterBeingServed() {
        var pool = Pool(size: 1)
        _ = pool.lease(1)
        _ = pool.lease(2)
        _ = pool.lease(3)
        _ = pool.lease(4)
        let timedOut = pool.stopWaiting(3), again = pool.stopWaiting(3)
        #expect(timedOut, "timed out while waiting")
        #expect(!again, "only once")
        guard case .hand(7, to: 2) = pool.release(7, reusable: true) else { Issue.record("not handed to 2"); return }
        let served = pool.stopWaiting(2), cancelled = pool.stopWaiting(4)
        #expect(!served, "a served waiter's timer finds nothing to do")
        #expect(cancelled, "cancelled")
        #expect(pool.waiting.isEmpty)
        guard case .keep = pool.release(7, reusable: true) else { Issue.record("not kept"); return }
    }

    @Test func aShardThatIsDownFailsEveryWaiterAtOnceOtherwiseOneRetries() {
        var pool = Pool(size: 1)
        _ = pool.lease(1)
        _ = pool.lease(2)
        _ = pool.lease(3)
        guard case .retry(2) = pool.openFailed(shardDown: false) else { Issue.record("expected a retry"); return }
        #expect(pool.openCount == 0 && pool.waiting == [3])
        guard case .open = pool.lease(2) else { Issue.record("expected open"); return }
        _ = pool.lease(4)
        guard case .fail([3, 4]) = pool.openFailed(shardDown: true) else { Issue.record("expected every waiter to fail"); return }
        #expect(pool.openCount == 0 && pool.waiting.isEmpty)
        guard case .none = pool.openFailed(shardDown: true) else { Issue.record("expected nothing"); return }
    }

    @Test func atRestTheIdleConnectionsAreLentToThePoolItself() {
        var pool = Pool(size: 2)
        _ = pool.lease(1)
        _ = pool.lease(2)
        _ = pool.release(20, reusable: true)
        let resting = pool.shrinkIdle()
        #expect(resting == [20])
        #expect(pool.idleCount == 0 && pool.openCount == 2)
        _ = pool.lease(3)  // waits: the other one is lent, this one resting
        let busy = pool.shrinkIdle()
        #expect(busy.isEmpty, "never while anyone waits")
        guard case .hand(20, to: 3) = pool.release(20, reusable: true) else { Issue.record("not handed"); return }
    }

    @Test func closingFailsWaitersAndClosesWhatComesBack() {
        var pool = Pool(size: 2)
        _ = pool.lease(1)
        _ = pool.lease(2)
        _ = pool.release(10, reusable: true)
        _ = pool.lease(3)  // uses 10
        _ = pool.lease(4)  // waits
        _ = pool.release(10, reusable: true)  // handed to 4
        _ = pool.lease(5)  // waits
        let (idle, waiters) = pool.close()
        #expect(idle.isEmpty && waiters == [5] && pool.isClosed)
        guard case .fail = pool.lease(6) else { Issue.record("expected fail"); return }
        guard case .close([10], retry: nil) = pool.release(10, reusable: true) else { Issue.record("expected close"); return }
        #expect(pool.openCount == 1)
    }
}

extension PoolStateMachineTests {
    @Test func aBorrowerThatNeedNotWaitIsNeverQueued() {
        var pool = Pool(size: 1)
        guard case .open? = pool.leaseWithoutWaiting() else { Issue.record("expected open"); return }
        #expect(pool.leaseWithoutWaiting() == nil, "full: it would wait")
        #expect(pool.waiting.isEmpty, "and nobody was queued")
        guard case .keep = pool.release(1, reusable: true), case .use(1)? = pool.leaseWithoutWaiting() else { Issue.record("expected the idle one"); return }
        _ = pool.close()
        guard case .fail? = pool.leaseWithoutWaiting() else { Issue.record("expected fail"); return }
    }

    @Test func aLargerPoolLetsWaitersOpenAndASmallerOneShrinksAsConnectionsReturn() {
        var pool = Pool(size: 1)
        _ = pool.lease(1)
        for id in 2...4 { guard case .wait = pool.lease(id) else { Issue.record("expected wait"); return } }
        // Two more connections allowed: the two oldest waiters ask again (and open).
        let grown = pool.resize(to: 3)
        #expect(grown.retry == [2, 3] && grown.close.isEmpty && pool.waiting == [4])
        guard case .open = pool.lease(2), case .open = pool.lease(3) else { Issue.record("the retrying waiters open"); return }
        #expect(pool.openCount == 3)
        // Back to 1: one idle connection closes at once, lent ones as they come back (the
        // waiter still gets one, since the pool stays at its size).
        guard case .hand(2, to: 4) = pool.release(2, reusable: true) else { Issue.record("a waiter is served first"); return }
        let shrunk = pool.resize(to: 1)
        #expect(shrunk.retry.isEmpty && shrunk.close.isEmpty, "nothing idle to close")
        guard case .close([1], retry: nil) = pool.release(1, reusable: true),
              case .close([3], retry: nil) = pool.release(3, reusable: true) else { Issue.record("over the size: closed on return"); return }
        guard case .keep = pool.release(2, reusable: true) else { Issue.record("at the size: kept"); return }
        #expect(pool.openCount == 1 && pool.idleCount == 1)
        #expect(pool.resize(to: 1).close.isEmpty)
    }

    @Test func droppedIdleConnectionsAreNoLongerCountedOpen() {
        var pool = Pool(size: 2)
        _ = pool.lease(1)
        _ = pool.lease(2)
        _ = pool.release(1, reusable: true)
        #expect(pool.dropIdle() == [1])
        #expect(pool.openCount == 1 && pool.idleCount == 0)
        guard case .open = pool.lease(3) else { Issue.record("room for a new one"); return }
    }
}
