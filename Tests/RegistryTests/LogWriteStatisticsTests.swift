import EventLog
import FileStore
import Foundation
import Registry
import Testing

/// The local log's write totals behind the `tunnel_registry_log_*` metrics.
@Suite struct LogWriteStatisticsTests {
    @Test func totalsCountCommitsRecordsAndTimeAndSurviveTheWritersClose() async throws {
        // Proves each append is one commit holding its records, time is counted, and the totals
        // stay when the writer closes and keep growing on the writer reopened after it.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = EventLogConfiguration(directory: directory.path + "/log")
        let store = try await EventLogStore.open(configuration, logger: quietLogger, clock: { 1_000 })
        #expect(store.writeStatistics == StoreWriteStatistics())
        for index in 0..<3 {
            _ = try await store.append([EventCodec.encode(event(UInt64(index + 1), at: 1_000, .register, id: "s\(index)"))])
        }
        _ = try await store.append([
            EventCodec.encode(event(4, at: 1_000, .renew, id: "s0")), EventCodec.encode(event(5, at: 1_000, .renew, id: "s1")),
        ])
        let written = try #require(store.writeStatistics)
        #expect(written.commits == 4)
        #expect(written.records == 5)
        #expect(written.commitNanoseconds > 0)

        try await store.close()
        #expect(store.writeStatistics == written)

        try await store.recover()
        _ = try await store.append([EventCodec.encode(event(6, at: 1_000, .renew, id: "s2"))])
        let reopened = try #require(store.writeStatistics)
        #expect(reopened.commits == 5)
        #expect(reopened.records == 6)
        #expect(reopened.commitNanoseconds > written.commitNanoseconds)
        try await store.close()
    }

    @Test func storesThatDoNotCountAnswerNil() {
        // Proves a store without a writer of its own (the tests' in-memory one) reports no totals,
        // so the metrics stay untouched rather than showing made-up zeros.
        #expect(InMemoryEventStore(clock: { 0 }).writeStatistics == nil)
    }
}
