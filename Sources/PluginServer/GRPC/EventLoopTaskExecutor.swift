import NIOCore
import NIOPosix

/// Runs Swift concurrency jobs on the threads of a NIO event loop group. A job enqueued on one
/// of the group's loops stays on that loop; one enqueued from any other thread (the log's
/// writer resuming an appender, say) goes to the group's next loop. The gRPC front prefers it
/// for its RPC tasks: grpc-swift hops between a stream's channel and the RPC's task several
/// times per call, and with this preference each hop is a job on the stream's own loop instead
/// of a wake-up of a thread of the global pool (docs/ARCHITECTURE.md, "The fronts").
final class EventLoopTaskExecutor: TaskExecutor {
    let group: MultiThreadedEventLoopGroup

    init(group: MultiThreadedEventLoopGroup) {
        self.group = group
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
