import EventLog

/// The log as the Registry sees it: append payloads durably, read them back in order, and
/// reopen after a write failure. `EventLogStore` is the real one (module EventLog);
/// `InMemoryEventStore` serves tests; another store can plug in here.
public protocol RegistryEventStore: Sendable {
    /// Appends the payloads in one commit with contiguous sequences; returns the first's
    /// position once durable. Throws when the log cannot be written.
    func append(_ payloads: [[UInt8]]) async throws -> LogPosition

    /// Calls `body` with every durable record whose sequence is ≥ `sequence`, in order.
    func read(fromSequence sequence: UInt64, _ body: (LogRecord) throws -> Void) throws

    /// The highest durable sequence (0 when empty).
    var durableSequence: UInt64 { get }

    /// Makes appends possible again after one failed (for the real log: close the writer and
    /// reopen it, which recovers the tail). Throws while the cause persists.
    func recover() async throws

    /// Flushes, fsyncs and releases the log.
    func close() async throws
}
