/// Runs async work to completion from a plain thread (the main thread or a scan worker, never a
/// thread of the concurrency pool), blocking that thread until it ends: the read commands stay
/// synchronous while the PostgreSQL client is async.
enum Blocking {
    private final class Box<Value: Sendable>: @unchecked Sendable {
        var result: Result<Value, any Error>?
        let condition = ThreadCondition()
    }

    static func run<Value: Sendable>(_ operation: @escaping @Sendable () async throws -> Value) throws -> Value {
        let box = Box<Value>()
        Task.detached {
            let result: Result<Value, any Error>
            do {
                result = .success(try await operation())
            } catch {
                result = .failure(error)
            }
            box.condition.withLock {
                box.result = result
                box.condition.broadcast()
            }
        }
        let result = box.condition.withLock {
            while box.result == nil { box.condition.wait() }
            return box.result!
        }
        return try result.get()
    }
}
