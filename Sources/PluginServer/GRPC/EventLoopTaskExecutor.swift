import NIOCore
import NIOPosix

/// Runs Swift concurrency jobs on NIO event loop threads, for the gRPC front (docs/ARCHITECTURE.md,
/// "The fronts"). grpc-swift hops between a call's HTTP/2 stream channel and the call's task
/// several times per call; with this executor preferred, each hop is a job on a loop instead of a
/// wake-up of a thread of the global pool.
///
/// Two kinds: over a group, a job enqueued on one of its loops stays on that loop and one enqueued
/// from any other thread goes to the group's next loop (the server's own tasks); pinned, every job
/// runs on one loop (a call's handler, pinned to its stream's loop, so that the log's writer thread
/// resuming it wakes that loop and the reply is written without another hop).
final class EventLoopTaskExecutor: TaskExecutor {
    private enum Target {
        case group(MultiThreadedEventLoopGroup)
        case loop(any EventLoop)
    }

    private let target: Target

    /// Keeps each job on the group loop it was enqueued from.
    init(group: MultiThreadedEventLoopGroup) {
        target = .group(group)
    }

    /// Runs every job on `loop`, wherever it was enqueued from.
    init(pinnedTo loop: any EventLoop) {
        target = .loop(loop)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let loop: any EventLoop
        switch target {
        case .loop(let pinned): loop = pinned
        case .group(let group): loop = MultiThreadedEventLoopGroup.currentEventLoop ?? group.next()
        }
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
