import Logging
import Registry
import Synchronization

/// A snapshot store whose newest snapshot was loaded in the background while the log was opened
/// (the writer's recovery scan of the active segment and the snapshot's decompression and decode
/// are independent: at start they run on two cores). The first `loadNewest` takes the preloaded
/// projection when it is at or before the sequence asked for; otherwise, and for every later call,
/// it asks `snapshots`. The preload skips a damaged snapshot silently: the search that follows
/// logs it.
final class PreloadedSnapshotStore: RegistrySnapshotStore {
    /// The snapshot loading in the background; `take()` moves it out (so the fold that follows
    /// owns the only copy and mutates it in place).
    final class Preload: Sendable {
        private final class Slot: Sendable {
            let value = Mutex<Projection?>(nil)
        }

        private let task: Task<Void, Never>
        private let loaded = Slot()

        init(_ snapshots: SnapshotStore) {
            let loaded = self.loaded
            self.task = Task.detached {
                let projection = snapshots.loadNewestValid(logger: RegistryLogReader.quietLogger)
                loaded.value.withLock { $0 = projection }
            }
        }

        func take() async -> Projection? {
            await task.value
            return loaded.value.withLock { value in
                defer { value = nil }
                return value
            }
        }
    }

    private let snapshots: any RegistrySnapshotStore
    private let preload: Mutex<Preload?>

    init(snapshots: any RegistrySnapshotStore, preload: Preload) {
        self.snapshots = snapshots
        self.preload = Mutex(preload)
    }

    func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection? {
        let pending = preload.withLock { pending in
            defer { pending = nil }
            return pending
        }
        if let pending, let projection = await pending.take(), projection.lastSequence <= sequence {
            return projection
        }
        return await snapshots.loadNewest(atOrBefore: sequence, logger: logger)
    }

    func write(_ projection: Projection, keep: Int) async throws -> Int {
        try await snapshots.write(projection, keep: keep)
    }
}
