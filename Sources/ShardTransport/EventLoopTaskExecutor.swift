import NIOCore

/// Runs a task's jobs on one event loop, so that a task awaiting socket I/O on that loop is
/// resumed on the loop's own thread: no wake-up of another thread per request or answer (each
/// costs tens of microseconds on small VMs).
///
/// The daemon runs each session's task on its connection's loop; `ShardClient` hands out one
/// per session (`ShardSession.taskExecutor`) for callers' tasks.
public final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: EventLoop is Sendable; this wrapper only forwards to it.
    /// The loop the jobs run on.
    public let loop: EventLoop

    /// An executor for `loop`.
    public init(_ loop: EventLoop) {
        self.loop = loop
    }

    /// Queues the job on the loop; queued from the loop's own thread, it wakes no other thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
