import NIOCore

/// Runs a session's task on its connection's event loop, so that reading a request, a
/// short SQLite read and writing the answer happen on one thread: no wake-up of another
/// thread per request (each costs tens of microseconds on these machines). Work that may
/// block for long (PostgreSQL, writes, big scans) still hops to the shards' own queues.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: EventLoop is Sendable; this wrapper only forwards to it.
    let loop: EventLoop

    init(_ loop: EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
