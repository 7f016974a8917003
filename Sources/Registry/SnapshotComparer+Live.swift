extension Projection {
    /// Where the lapsed entries of `bytes` begin when everything before them is exactly this
    /// projection's encoding up to there (`encoded(lapsedEntries: false)`: the header, the live
    /// leases and the lapsed count); nil at the first difference.
    ///
    /// Answered in the order of `bytes`, without sorting or encoding the leases (which was most of
    /// `verify`'s snapshot comparison): each lease in `bytes` is found by its key and compared
    /// field by field, lengths and varints in their shortest form as the encoder writes them, and
    /// each key must follow the one before in the encoder's order (`SnapshotComparer.order`). As
    /// many leases as the projection holds, with distinct keys in that order, are all of its leases
    /// in the order it encodes them, so the bytes are equal.
    ///
    /// `order` holds the live entry indices in the order of an earlier match (a guess: most leases
    /// recur in the same order, so each is tried at the index that followed the one before, and
    /// looked up by hash only when it is not there); on a match it becomes this one's order.
    func liveSectionEnd(of bytes: UnsafeRawBufferPointer, order: inout [Int32]) -> Int? {
        var cursor = ExactCursor(bytes)
        guard cursor.match(varint: UInt64(Projection.encodingVersion)),
            cursor.match(varint: lastSequence),
            cursor.match(signed: lastTimeMicroseconds),
            cursor.match(signed: leaseTTLMicroseconds),
            cursor.match(varint: UInt64(live.count))
        else { return nil }
        let guesses = order
        // Where each index stands in `guesses`, built at the first lease not where guessed.
        var guessPosition: [Int32] = []
        var found: [Int32] = []
        found.reserveCapacity(live.count)
        var next = 0
        var previousName = noBytes
        var previousID = noBytes
        let ahead = Self.liveLookahead
        for position in 0..<live.count {
            // The guessed entries miss the cache (the decompression evicted them): loaded ahead.
            if next + 2 * ahead < guesses.count { live.prefetch(index: Int(guesses[next + 2 * ahead]), key: false) }
            if next + ahead < guesses.count { live.prefetch(index: Int(guesses[next + ahead]), key: true) }
            guard let id = cursor.string(), let name = cursor.string() else { return nil }
            let index: Int
            if next < guesses.count, live.hasKey(at: Int(guesses[next]), name, id) {
                index = Int(guesses[next])
                next += 1
            } else {
                guard let looked = live.find(name, id), live.hasKey(at: looked, name, id) else { return nil }
                index = looked
                if guessPosition.isEmpty {
                    guessPosition = [Int32](repeating: -1, count: live.capacity)
                    for (at, guess) in guesses.enumerated() where Int(guess) < guessPosition.count {
                        guessPosition[Int(guess)] = Int32(at)
                    }
                }
                if index < guessPosition.count, guessPosition[index] >= 0 { next = Int(guessPosition[index]) + 1 }
            }
            if position > 0, SnapshotComparer.order(previousName, previousID, name, id) >= 0 { return nil }
            previousName = name
            previousID = id
            let entry = live[index]
            guard let node = cursor.string(), strings.equals(entry.node, node),
                let network = cursor.string(), strings.equals(entry.network, network),
                let address = cursor.string(), strings.equals(entry.address, address),
                cursor.match(signed: entry.registeredAtMicroseconds),
                cursor.match(signed: entry.lastRenewAtMicroseconds),
                cursor.match(signed: entry.leaseExpiresAtMicroseconds),
                cursor.match(varint: entry.lastRenewSequence)
            else { return nil }
            found.append(Int32(index))
        }
        guard cursor.match(varint: UInt64(lapsedEntryCount)) else { return nil }
        order = found
        return cursor.position
    }

    /// Leases between the stages of `liveSectionEnd`'s loads (entry, then its id's bytes).
    static let liveLookahead = 8
}

/// Reads encoded projection bytes while checking they are written exactly as `RawByteWriter`
/// writes: a value matches only in its shortest varint form, a string only with its length so.
private struct ExactCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Whether `value`'s varint comes next (then passed).
    @inline(__always)
    mutating func match(varint value: UInt64) -> Bool {
        var rest = value
        var at = position
        while rest >= 0x80 {
            guard at < bytes.count, bytes[at] == UInt8(truncatingIfNeeded: rest) | 0x80 else { return false }
            at += 1
            rest >>= 7
        }
        guard at < bytes.count, bytes[at] == UInt8(rest) else { return false }
        position = at + 1
        return true
    }

    /// Whether `value`'s zigzag varint comes next (then passed).
    @inline(__always)
    mutating func match(signed value: Int64) -> Bool {
        match(varint: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// The string next (passed), its length in its shortest varint form; nil when the length is
    /// longer than that or than the bytes left.
    @inline(__always)
    mutating func string() -> UnsafeRawBufferPointer? {
        var length = 0
        var shift = 0
        var at = position
        while true {
            guard at < bytes.count, shift < 56 else { return nil }
            let byte = bytes[at]
            at += 1
            length |= Int(byte & 0x7F) << shift
            if byte < 0x80 {
                // A last byte of zero after others is a longer form than the writer's.
                guard byte != 0 || shift == 0 else { return nil }
                break
            }
            shift += 7
        }
        guard length <= bytes.count - at else { return nil }
        position = at + length
        return UnsafeRawBufferPointer(rebasing: bytes[at..<position])
    }
}
