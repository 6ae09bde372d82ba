import NIOCore

/// A Swift `TaskExecutor` that runs jobs on one NIO event loop.
///
/// A connection's tasks started with this executor as their preference run on the thread of
/// the connection's channel: a message read by the channel resumes the task awaiting it without
/// waking another thread, and a write from the task reaches the channel without a hop back.
/// Child tasks inherit the preference. Code that blocks in such a task blocks the event loop.
public final class EventLoopTaskExecutor: TaskExecutor {
    /// The event loop the jobs run on.
    public let eventLoop: any EventLoop

    /// Creates an executor for `eventLoop`.
    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
