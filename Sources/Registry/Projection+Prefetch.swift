import CPrefetch

/// What of a live lease `Projection.prefetchLease` starts loading: each stage reads what the
/// one before loaded, so a fold calls them for a record a few records apart, slot first.
public enum LeasePrefetchStage: Sendable {
    /// The hash slot that names the lease's entry.
    case slot
    /// The lease's entry (reads the slot).
    case entry
    /// The bytes of the lease's id, kept apart from the entry when longer than 15 bytes (reads the entry).
    case key
}

/// Folding a renew finds its lease by a chain of loads (slot, entry, id bytes), each a cache miss
/// on a registry of thousands of connectors: a fold that sees the records ahead (a log batch)
/// can start those loads a few records early, so they overlap the folding of the records before
/// (`tunnel-replay verify` does; README, "Auditing with `tunnel-replay`").
extension Projection {
    /// The hash `prefetchLeases` and `apply(_:sequence:time:leaseHash:)` take for the lease of the record with `payload`, read from its
    /// id and name, which come first (docs/FORMAT.md, "Registry event payload"), without checking
    /// the rest (the fold does); nil when the payload does not start so.
    public static func leaseHash(payload: UnsafeRawBufferPointer) -> UInt32? {
        leaseHash(payload: payload, key: .process)
    }

    /// `leaseHash(payload:)` with the process's hash key read once by the caller
    /// (`ServiceHashKey.process`; a fold holds it rather than read the global per record).
    public static func leaseHash(payload: UnsafeRawBufferPointer, key: ServiceHashKey) -> UInt32? {
        // version(1) kind(1) id name ...; lengths below 128 are one byte.
        guard payload.count >= 4, payload[2] < 0x80 else { return nil }
        let idLength = Int(payload[2])
        guard 3 + idLength < payload.count, payload[3 + idLength] < 0x80 else { return nil }
        let nameLength = Int(payload[3 + idLength])
        guard 4 + idLength + nameLength <= payload.count else { return nil }
        return serviceHash(
            UnsafeRawBufferPointer(rebasing: payload[(4 + idLength)..<(4 + idLength + nameLength)]),
            UnsafeRawBufferPointer(rebasing: payload[3..<(3 + idLength)]), key: key)
    }

    /// Starts loading the live leases of three records at their three stages at once: the slot of
    /// the lease with hash `slot` (`leaseHash`), the entry of `entry`'s, the id bytes of the entry
    /// at index `keyIndex` (-1: none), which an earlier call returned for that record's entry
    /// (`LeasePrefetchStage`). Returns the live entry index the lookup of `entry` likely ends at
    /// (-1 for none), for the call that loads its id bytes and for a caller that prefetches its
    /// own state kept per lease entry (`LeaseMove`). Only a hint: the fold is the same whether
    /// and whenever it is called. Changes nothing; `mutating` so a fold lends the projection in
    /// place (called by value, it copied the projection per record).
    public mutating func prefetchLeases(slot: UInt32?, entry: UInt32?, keyAt keyIndex: Int) -> Int {
        live.prefetch(slot: slot, entry: entry, keyAt: keyIndex)
    }

    /// Starts loading `address` (a hint; for callers without the prefetch shim).
    @inline(__always)
    package static func prefetch(_ address: UnsafeRawPointer) {
        tunnel_registry_prefetch(address)
    }
}
