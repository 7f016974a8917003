import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import PluginServer

/// The executor the gRPC front's RPC tasks prefer: they must run on the group's loops and keep
/// to the loop they are on.
@Suite struct EventLoopTaskExecutorTests {
    // Proves a task preferring the executor runs on one of the group's loops, stays on that loop
    // across yields, and is back on one of the loops after another thread resumes it.
    @Test func runsOnTheGroupsLoopsAndKeepsItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let groupLoops = Set(group.makeIterator().map { ObjectIdentifier($0) })
        let seen = await Self.loopsSeen(preferring: EventLoopTaskExecutor(group: group))
        try await group.shutdownGracefully()
        let first = try #require(seen[0])
        #expect(groupLoops.contains(first))
        #expect(seen[1...10].allSatisfy { $0 == first }, "a yield moved the task off its loop: \(seen)")
        let resumed = try #require(seen[11])
        #expect(groupLoops.contains(resumed))
    }

    // Proves a task preferring a pinned executor runs on that loop, and is back on it after every
    // yield and after another thread resumes it.
    @Test func pinnedRunsOnItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        for loop in group.makeIterator() {
            let seen = await Self.loopsSeen(preferring: EventLoopTaskExecutor(pinnedTo: loop))
            #expect(seen == Array(repeating: ObjectIdentifier(loop), count: 12), "pinned to \(loop), ran on \(seen)")
        }
        try await group.shutdownGracefully()
    }

    /// The loop a task preferring `executor` runs on: at its start, after each of ten yields, and
    /// after a plain thread resumes it (twelve in all; nil off the loops).
    private static func loopsSeen(preferring executor: EventLoopTaskExecutor) async -> [ObjectIdentifier?] {
        await withTaskExecutorPreference(executor) { () async -> [ObjectIdentifier?] in
            var loops = [currentLoop()]
            for _ in 0..<10 {
                await Task.yield()
                loops.append(currentLoop())
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread { continuation.resume() }.start()
            }
            loops.append(currentLoop())
            return loops
        }
    }

    private static func currentLoop() -> ObjectIdentifier? {
        MultiThreadedEventLoopGroup.currentEventLoop.map { ObjectIdentifier($0) }
    }
}
