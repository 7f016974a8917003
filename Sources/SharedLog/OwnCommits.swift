import Synchronization

/// The commits this store's group commit had acknowledged, for a tail that omits them
/// (`SharedLogConfiguration.tailOmitsOwnAppends`): their callers already hold them, so the tail
/// moves its cursor over them without reading or decoding them, and a notification sent by one
/// of this store's writer sessions (known by backend PID) needs no read at all. Only ranges the
/// tail has not passed are kept, and only while a tail follows; forgetting one is always safe
/// (the tail then reads it like any other row).
final class OwnCommits: Sendable {
    private struct State {
        var ranges: [UInt64: Int] = [:]
        /// The backend PID of each writer lane's current session (a reconnected lane replaces its own).
        var writerPIDs: [Int: Int32] = [:]
        var followers: [Int: @Sendable () -> Void] = [:]
        var nextFollower = 0
    }

    /// Most ranges kept: beyond it they are all forgotten (no tail is taking them).
    static let rangesMax = 65_536

    private let state = Mutex(State())

    /// Records an acknowledged commit of `count` records from `first`, appended on writer `lane`
    /// by the session with backend PID `writerPID`, and wakes the tails. Call before answering its callers.
    func acknowledged(first: UInt64, count: Int, lane: Int, writerPID: Int32) {
        let wakes = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.followers.isEmpty else { return [] }
            if state.ranges.count >= Self.rangesMax { state.ranges = [:] }
            state.ranges[first] = count
            state.writerPIDs[lane] = writerPID
            return Array(state.followers.values)
        }
        for wake in wakes { wake() }
    }

    /// True when `pid` is the backend of one of this store's writer sessions.
    func isOwnWriter(_ pid: Int32) -> Bool {
        state.withLock { $0.writerPIDs.values.contains(pid) }
    }

    /// The last sequence of the run of own commits that starts right after `last` (`last` when
    /// there is none); forgets every range up to it.
    func skip(after last: UInt64) -> UInt64 {
        state.withLock { state in
            var through = last
            while let count = state.ranges.removeValue(forKey: through + 1) { through += UInt64(count) }
            if state.ranges.count > 64 { state.ranges = state.ranges.filter { $0.key > through } }
            return through
        }
    }

    /// True when the row starting at `first` holding `count` records is an acknowledged own commit.
    func contains(first: UInt64, count: Int) -> Bool {
        state.withLock { $0.ranges[first] == count }
    }

    /// Registers a tail: `wake` runs on every acknowledgement until `unfollow` with the returned id.
    func follow(wake: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            defer { state.nextFollower += 1 }
            state.followers[state.nextFollower] = wake
            return state.nextFollower
        }
    }

    func unfollow(_ id: Int) {
        state.withLock { state in
            state.followers[id] = nil
            if state.followers.isEmpty { state.ranges = [:] }
        }
    }
}
