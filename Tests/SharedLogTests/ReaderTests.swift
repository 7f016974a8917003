import Registry
import Testing

@testable import SharedLog

/// The read-only reader of the replay tool: from a sequence, from a time, the head.
@Suite(needsPostgres, .timeLimit(.minutes(3))) struct ReaderTests {
    @Test func readsFromSequenceAndFromTimeAcrossDenseRows() async throws {
        // From any time, the reader returns exactly the records committed at or after it, merged or not.
        try await withPostgres { server in
            try await withStores(server, ["a"], configure: { $0.mergeAgeSeconds = 0; $0.mergeRunRowsMin = 8 }) {
                stores in
                let store = stores[0]
                for index in 1...40 { _ = try await store.append([payload("r", index), payload("s", index)]) }
                let reader = try await SharedLogReader.open(url: server.url(database: "registry"), logger: testLogger)
                var all: [StoreRecord] = []
                try await reader.read(fromSequence: 1) { all.append($0) }
                #expect(all.map(\.sequence) == Array(1...80))
                #expect(try await reader.head().sequence == 80)
                for merged in [false, true] {
                    if merged { #expect(try await store.mergeNow() == 80) }
                    for index in [0, 1, 33, 57, 79] {
                        let time = all[index].timeMicroseconds
                        var fromTime: [StoreRecord] = []
                        try await reader.read(fromTime: time) { fromTime.append($0) }
                        #expect(fromTime == all.filter { $0.timeMicroseconds >= time }, "from \(time), merged \(merged)")
                    }
                    var fromSequence: [StoreRecord] = []
                    try await reader.read(fromSequence: 61) { fromSequence.append($0) }
                    #expect(fromSequence == Array(all[60...]))
                }
                var none: [StoreRecord] = []
                try await reader.read(fromTime: (all.last?.timeMicroseconds ?? 0) + 1) { none.append($0) }
                #expect(none.isEmpty)
                await reader.close()
            }
        }
    }
}
