import Registry
import Foundation
import Logging
import Synchronization
import Testing

@testable import SharedLog
@_exported import PostgresTestSupport

/// Logs of the stores under test: warnings and errors to standard error, so a failing test shows why.
let testLogger: Logger = {
    var logger = Logger(label: "shared-log-test") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .warning
    return logger
}()

/// A configuration for `server`'s test database with short intervals (leadership checked and
/// the log polled every 200 ms), no background merger, and the production write timeout.
func testConfiguration(_ server: PostgresServer, instance: String, database: String = "registry")
    -> SharedLogConfiguration
{
    var configuration = SharedLogConfiguration(url: server.url(database: database), instance: instance)
    configuration.leaderCheckSeconds = 0.2
    configuration.pollIntervalSeconds = 0.2
    configuration.mergeIntervalSeconds = 0
    return configuration
}

/// A recognizable payload: the writer's name and a counter.
func payload(_ writer: String, _ index: Int) -> [UInt8] {
    Array("\(writer)#\(index)".utf8)
}

/// Every record of the store's log, in order.
func allRecords(_ store: SharedEventStore) async throws -> [StoreRecord] {
    var records: [StoreRecord] = []
    try await store.read(fromSequence: 1) { records.append($0) }
    return records
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass; then checks once more.
func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// Runs `body` with stores opened on `server` under the given instance names; closes them all.
func withStores<T>(
    _ server: PostgresServer, _ instances: [String], configure: (inout SharedLogConfiguration) -> Void = { _ in },
    _ body: ([SharedEventStore]) async throws -> T
) async throws -> T {
    var stores: [SharedEventStore] = []
    do {
        for instance in instances {
            var configuration = testConfiguration(server, instance: instance)
            configure(&configuration)
            stores.append(try await SharedEventStore.open(configuration, logger: testLogger))
        }
        let value = try await body(stores)
        for store in stores { try? await store.close() }
        return value
    } catch {
        for store in stores { try? await store.close() }
        throw error
    }
}

/// The trait every test that needs a PostgreSQL server carries: skipped, visibly, without one.
let needsPostgres = Testing.ConditionTrait.enabled(
    if: PostgresServer.isAvailable,
    "PostgreSQL binaries missing in \(PostgresServer.binDirectory): apt-get install -y postgresql")

/// A value shared by concurrent test tasks, behind a lock.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    var value: Value { mutex.withLock { $0 } }

    func update<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
