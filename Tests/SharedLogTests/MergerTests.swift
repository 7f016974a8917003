import Registry
import Testing

@testable import SharedLog

/// The merger rewrites runs of small rows into dense rows without losing or reordering a record.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct MergerTests {
    @Test func mergedLogReadsTheSameFromEveryPosition() async throws {
        // After merging, the log reads the same records from 1 and from positions inside dense rows,
        // fewer rows hold them, and appends and tails go on densely after the merged range.
        try await withPostgres { server in
            try await withStores(
                server, ["a", "b"],
                configure: {
                    $0.mergeAgeSeconds = 0
                    $0.mergeRunRowsMin = 64
                    $0.mergeRecordsMax = 100
                }
            ) { stores in
                let store = stores[0]
                for index in 1...300 { _ = try await store.append([payload("one", index)]) }
                let before = try await allRecords(store)
                let stream = stores[1].records(after: 150)
                let merger = store.merger
                let pass = try await merger.mergeOnce()
                #expect(pass.runs == 3 && pass.records == 300)
                let rows = try await server.psql(
                    "SELECT string_agg(first_seq || ':' || count, ',' ORDER BY first_seq) FROM tunnel_registry.log_batch",
                    database: "registry")
                #expect(rows == "1:100,101:100,201:100")
                #expect(try await allRecords(store) == before)
                for start in [1, 99, 100, 101, 150, 299, 300] as [UInt64] {
                    var from: [StoreRecord] = []
                    try await stores[1].read(fromSequence: start) { from.append($0) }
                    #expect(from == Array(before[Int(start - 1)...]), "reading from \(start)")
                }
                for index in 1...10 { _ = try await store.append([payload("two", index)]) }
                var tailed: [UInt64] = []
                for try await batch in stream {
                    tailed.append(contentsOf: batch.map(\.sequence))
                    if tailed.count >= 160 { break }
                }
                #expect(tailed == Array(151...310))
                #expect(try await merger.mergeOnce() == Merger.Pass())
            }
        }
    }

    @Test func youngOrShortRunsStay() async throws {
        // Rows younger than the merge age, and runs shorter than the minimum, are left alone.
        try await withPostgres { server in
            try await withStores(server, ["a"], configure: { $0.mergeAgeSeconds = 3_600 }) { stores in
                for index in 1...100 { _ = try await stores[0].append([payload("young", index)]) }
                #expect(try await stores[0].merger.mergeOnce() == Merger.Pass())
            }
            try await withStores(server, ["a"], configure: { $0.mergeAgeSeconds = 0; $0.mergeRunRowsMin = 1_000 }) {
                stores in
                let pass = try await stores[0].merger.mergeOnce()
                #expect(pass == Merger.Pass())
            }
        }
    }
}
