import Registry
import Logging

/// Reading the log in pages of rows, shared by the store and the read-only reader.
enum LogReading {
    /// Calls `body` with every record after `last`, in order; a gap or a damaged row throws.
    static func read(
        after last: UInt64, slot: ConnectionSlot, seconds: Double, logger: Logger, _ body: (StoreRecord) throws -> Void
    ) async throws {
        var last = last
        while true {
            let position = last
            let (rows, head) = try await slot.run("reading the log after sequence \(position)", seconds: seconds) {
                connection in try await LogQueries.rows(after: position, on: connection, logger: logger)
            }
            let (records, through, problem) = recordsAfter(position, in: rows, head: head)
            for record in records { try body(record) }
            last = through
            if let problem {
                if case .gap(let expected, let found) = problem {
                    logger.error(
                        "GAP in the shared log: sequence \(expected) missing, next row starts at \(found)",
                        metadata: ["log.expected": "\(expected)", "log.found": "\(found)"])
                }
                throw problem.error(label: slot.connector.url.label)
            }
            if last >= head { return }
        }
    }
}
