extension EventCodec {
    /// The scheme number of the registry's record tally (docs/FORMAT.md "Tally frame"): the slot
    /// of a record is its version-1 payload's kind byte.
    public static let tallyScheme: UInt32 = 1
    /// The slot of a record whose version or kind this scheme does not know.
    public static let tallyUnknownSlot = 15

    /// The tally slot of a record payload under scheme 1: its kind byte (1 register ... 6 stall)
    /// when the payload is version 1 with a known kind, else `tallyUnknownSlot`. Reads two bytes.
    @inlinable
    public static func tallySlot(_ payload: UnsafeRawBufferPointer) -> Int {
        // Scheme 1 is defined on version-1 payloads; a later version needs a scheme of its own.
        guard payload.count >= 2, payload[0] == 1, kind(of: payload[1]) != nil else { return tallyUnknownSlot }
        return Int(payload[1])
    }

    /// The tally slot of a payload `view(_:sequence:)` accepted: it is version 1 with a known kind,
    /// so its slot is its kind byte, read without `tallySlot`'s checks.
    @inlinable
    public static func decodedTallySlot(_ payload: UnsafeRawBufferPointer) -> Int {
        Int(payload[1])
    }

    /// The kind counted in `slot` under scheme 1; nil for slots no kind uses.
    public static func kind(tallySlot slot: Int) -> EventKind? {
        guard (1...6).contains(slot) else { return nil }
        return kind(of: UInt8(slot))
    }
}
