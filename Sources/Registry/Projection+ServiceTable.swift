import CPrefetch

/// A hash table of values keyed by a pair of strings, (name, id), that is looked up by borrowed
/// UTF-8 bytes: the fold finds a lease from the bytes of a log record without building a `String`,
/// and hashes the pair once (a dictionary of dictionaries hashed name and id separately).
///
/// Open addressing with linear probing over `slots` (each the entry's 32-bit hash and its index
/// plus one; 0 is empty); removal shifts the probe run back, so there are no tombstones. Entries
/// keep their index while they live (an index is a stable handle: the lease index and the
/// projection's string numbers are entry indices) and freed indices are reused.
///
/// Growth is incremental: a full table gets slots twice as many and keeps the old ones, frozen,
/// while every insert moves the next `migrationStep` entries (by index) into the new; a lookup that
/// misses the new slots asks the old ones for an entry not moved yet. So no single insert re-places
/// every entry (100,000 leases expiring at once grow the lapsed table in the sweeper's turns, and a
/// one-step rehash held the registry for tens of milliseconds; docs/ARCHITECTURE.md).
struct ServiceTable<Value: Sendable>: Sendable {
    /// An entry: its key, its value, its hash; one record, so a lookup touches one place.
    struct Entry: Sendable {
        var name: String
        var id: String
        var value: Value
        var hash: UInt32
        var occupied: Bool
        /// Name and id are ASCII: equal only when their bytes are (others compare as `String`s).
        var ascii: Bool
    }

    private var entries = ChunkedArray<Entry>()
    private var free: [Int32] = []
    private var slots: [UInt64] = []
    /// While the slots grow: the slots before, frozen (no insert or removal changes them). They
    /// find the entries with index in `migrated..<migrationEnd` that are in use; stale slots (an
    /// entry removed since, or one moved already) are skipped by that test.
    private var oldSlots: [UInt64] = []
    /// Entries below this index (and from `migrationEnd` on) are placed in `slots`.
    private var migrated = 0
    /// `entries.count` when the growth began; no freed index is reused until it ends, so every
    /// entry at or after it was inserted into `slots`.
    private var migrationEnd = 0
    /// Entries in use.
    private(set) var count = 0
    /// Tables with fewer entries than this grow in one step (cheap; keeps small tables simple).
    var incrementalGrowthMinimum = 4_096

    /// Entries each insert moves into the new slots while the table grows: growth to 2C slots
    /// starts at 0.75 C entries and the next needs 0.75 C more inserts, so 8 per insert finishes
    /// well before (a later growth finishes an unfinished one first).
    static var migrationStep: Int { 8 }

    init() {}

    /// Whether the slots are growing (some entries are findable only through `oldSlots`).
    var isGrowing: Bool { migrated < migrationEnd }

    /// One past the highest entry index ever used: iterate `0..<capacity` and skip `!contains(index:)`.
    var capacity: Int { entries.count }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    func contains(index: Int) -> Bool { entries[index].occupied }

    /// The name of the entry at `index`.
    @inline(__always)
    func name(at index: Int) -> String { entries[index].name }

    /// The id of the entry at `index`.
    @inline(__always)
    func id(at index: Int) -> String { entries[index].id }

    /// Whether the entry at `index` is in use with exactly these key bytes (no reference counting).
    @inline(__always)
    func hasKey(at index: Int, _ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> Bool {
        guard index >= 0, index < entries.count, entries[index].occupied else { return false }
        return withStoredBytes(entries[index].id) { sameBytes($0, id) }
            && withStoredBytes(entries[index].name) { sameBytes($0, name) }
    }

    /// Whether the entry at `index` is in use with exactly this name's bytes, for a table whose
    /// keys are all (name, "") (`StringTable`: a renew compares its node so; the id's test was
    /// half of it).
    @inline(__always)
    func hasName(at index: Int, _ name: UnsafeRawBufferPointer) -> Bool {
        guard index >= 0, index < entries.count, entries[index].occupied else { return false }
        return sameBytes(entries[index].name, name)
    }

    /// Starts loading the entry at `index` (below `capacity`): its record, or with `key` the
    /// bytes of its id kept apart (reading the record, loaded by an earlier call).
    @inline(__always)
    func prefetch(index: Int, key: Bool) {
        entries.withAddress(of: index) { entry in
            if key {
                if let bytes = Self.heapUTF8(ofStringAt: entry + MemoryLayout<String>.stride) {
                    tunnel_registry_prefetch(bytes)
                }
            } else {
                tunnel_registry_prefetch(entry)
                tunnel_registry_prefetch(entry + MemoryLayout<Entry>.size - 1)
            }
        }
    }

    /// The entry index of (name, id), nil when absent.
    @inline(__always)
    func find(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> Int? {
        find(name, id, hash: serviceHash(name, id))
    }

    func find(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, hash: UInt32) -> Int? {
        guard count > 0 else { return nil }
        if let index = ServiceTable.probe(slots, entries, name, id, hash: hash, accepting: nil) {
            return index
        }
        guard isGrowing else { return nil }
        return ServiceTable.probe(oldSlots, entries, name, id, hash: hash, accepting: migrated..<migrationEnd)
    }

    /// The index of the entry (name, id) that `slots` holds, nil when absent. For the old slots,
    /// `accepted` names the indices to trust, and only entries in use count (old slots also name
    /// entries moved or removed since); nil for the current slots, which hold only live entries.
    @inline(__always)
    private static func probe(
        _ slots: [UInt64],
        _ entries: ChunkedArray<Entry>,
        _ name: UnsafeRawBufferPointer,
        _ id: UnsafeRawBufferPointer,
        hash: UInt32,
        accepting accepted: Range<Int>?
    ) -> Int? {
        slots.withUnsafeBufferPointer { slots in
            probeSlots(slots, hash: hash) { index in
                guard accepted.map({ $0.contains(index) && entries[index].occupied }) ?? true else { return false }
                if sameBytes(entries[index].id, id) && sameBytes(entries[index].name, name) { return true }
                return (!entries[index].ascii || !(ByteReader.isASCII(name) && ByteReader.isASCII(id)))
                    && String(decoding: id, as: UTF8.self) == entries[index].id
                    && String(decoding: name, as: UTF8.self) == entries[index].name
            }
        }
    }

    /// Starts loading, for three keys at once, what a lookup of each reads at one stage: the slot
    /// of `slot`; the entry the slot of `entry` names (reading that slot); the id bytes of the
    /// entry at `keyIndex` (-1: none; reading the entry), which an earlier call returned for that
    /// key's entry. The first slot with the hash is taken (a collision loads an entry in vain);
    /// old slots are not read. Returns the entry index the lookup of `entry` likely ends at (-1:
    /// none). One pass over the slots and entries, without reference counting: the fold calls it
    /// for every record.
    @inline(__always)
    func prefetch(slot: UInt32?, entry: UInt32?, keyAt keyIndex: Int) -> Int {
        if keyIndex >= 0 {
            entries.withAddress(of: keyIndex) { entry in
                if let bytes = Self.heapUTF8(ofStringAt: entry + MemoryLayout<String>.stride) {
                    tunnel_registry_prefetch(bytes)
                }
            }
        }
        return slots.withUnsafeBufferPointer { slots in
            guard !slots.isEmpty, let base = slots.baseAddress else { return -1 }
            let mask = slots.count - 1
            if let slot { tunnel_registry_prefetch(base + (Int(slot) & mask)) }
            guard let entry, let index = Self.likelyIndex(slots, mask: mask, hash: entry, below: entries.count) else {
                return -1
            }
            entries.withAddress(of: index) { entry in
                tunnel_registry_prefetch(entry)
                tunnel_registry_prefetch(entry + MemoryLayout<Entry>.size - 1)
            }
            return index
        }
    }

    /// The entry index the first slot with `hash` names, if below `count`.
    @inline(__always)
    private static func likelyIndex(
        _ slots: UnsafeBufferPointer<UInt64>, mask: Int, hash: UInt32, below count: Int
    ) -> Int? {
        var position = Int(hash) & mask
        while slots[position] != 0, UInt32(truncatingIfNeeded: slots[position] >> 32) != hash {
            position = (position + 1) & mask
        }
        let index = Int(UInt32(truncatingIfNeeded: slots[position])) - 1
        return index >= 0 && index < count ? index : nil
    }

    /// Where the UTF-8 bytes of the `String` stored at `address` likely are, read from its bits
    /// without a retain: a native string that is not small keeps them 32 bytes into the object its
    /// second word points to (the standard library's 64-bit layout). Only for prefetching: a
    /// prefetch of a wrong address is harmless, a read is not.
    @inline(__always)
    private static func heapUTF8(ofStringAt address: UnsafeRawPointer) -> UnsafeRawPointer? {
        let object = address.load(fromByteOffset: 8, as: UInt64.self)
        // Bit 61 marks a small string (its bytes are the two words themselves).
        guard object & (1 << 61) == 0 else { return nil }
        return UnsafeRawPointer(bitPattern: UInt(object & 0x00FF_FFFF_FFFF_FFFF) &+ 32)
    }

    /// The entry index of (name, id) given as strings, nil when absent.
    func find(name: String, id: String) -> Int? {
        withBytes(name, id) { find($0, $1) }
    }

    /// Makes room for `count` entries in all, so that inserting them does not grow the table.
    mutating func reserveCapacity(_ count: Int) {
        finishGrowing()
        entries.reserveCapacity(count)
        var capacity = max(16, slots.count)
        while count * 4 > capacity * 3 { capacity *= 2 }
        if capacity > slots.count { resizeSlots(capacity) }
    }

    /// Adds (name, id) → value, which must be absent (`find` first); returns its entry index.
    /// `name` and `id` are the stored keys: pass strings shared with other entries where possible.
    /// With `placing` false the entry is stored but not findable until `placeAll()` (a snapshot
    /// load adds 100,000 entries, then places them in one tight pass whose cache misses overlap).
    /// `ascii`, when given, is whether name and id are all ASCII (the caller checked already).
    @discardableResult
    mutating func insert(
        name: consuming String,
        id: consuming String,
        hash: UInt32,
        _ value: consuming Value,
        placing: Bool = true,
        ascii known: Bool? = nil
    ) -> Int {
        if placing {
            if isGrowing { migrate(ServiceTable.migrationStep) }
            if (count + 1) * 4 > slots.count * 3 { grow() }
        } else {
            finishGrowing()
        }
        let ascii = known ?? withBytes(name, id) { ByteReader.isASCII($0) && ByteReader.isASCII($1) }
        let entry = Entry(name: name, id: id, value: value, hash: hash, occupied: true, ascii: ascii)
        let index: Int
        if !isGrowing, let reused = free.popLast() {
            index = Int(reused)
            entries[index] = entry
        } else {
            precondition(entries.count < Int(Int32.max), "service table full at \(entries.count) entries")
            index = entries.count
            entries.append(entry)
        }
        if placing { place(index: index, hash: hash) }
        count += 1
        return index
    }

    /// Makes room for `count` entries in all without sizing the slots (inserts that are not placing).
    mutating func reserveEntryCapacity(_ count: Int) {
        entries.reserveCapacity(count)
    }

    /// Makes every entry findable after inserts that were not placing.
    mutating func placeAll() {
        finishGrowing()
        var capacity = 16
        while count * 4 > capacity * 3 { capacity *= 2 }
        resizeSlots(max(capacity, slots.count))
    }

    /// Adds (name, id) → value, which must be absent.
    @discardableResult
    mutating func insert(name: String, id: String, _ value: Value) -> Int {
        let hash = withBytes(name, id) { serviceHash($0, $1) }
        return insert(name: name, id: id, hash: hash, value)
    }

    /// Removes the entry at `index` (in use); returns its value.
    @discardableResult
    mutating func remove(index: Int) -> Value {
        precondition(entries[index].occupied, "entry \(index) removed but not in use")
        // An entry not moved yet is only in the frozen old slots: its slot goes stale there.
        if !(isGrowing && index >= migrated && index < migrationEnd) {
            let mask = slots.count - 1
            let target = UInt32(index + 1)
            var position = Int(entries[index].hash) & mask
            while UInt32(truncatingIfNeeded: slots[position]) != target {
                position = (position + 1) & mask
            }
            shiftBack(from: position, mask: mask)
        }
        entries[index].occupied = false
        entries[index].name = ""
        entries[index].id = ""
        free.append(Int32(index))
        count -= 1
        return entries[index].value
    }

    subscript(index: Int) -> Value {
        _read { yield entries[index].value }
        _modify { yield &entries[index].value }
        set { entries[index].value = newValue }
    }

    /// Entry indices in use, in no particular order.
    var indices: [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        for index in 0..<entries.count where entries[index].occupied { result.append(index) }
        return result
    }

    /// Entry indices in use, by name then id (string order). Each entry's sort key is read once:
    /// the first 16 bytes of its name and 8 of its id as big-endian words, so that integer order is
    /// byte order, which is string order for ASCII; ties and keys that are not ASCII are compared
    /// in full (as strings when not ASCII). Comparing `String` pairs was most of a snapshot's encoding.
    var sortedIndices: [Int] {
        var keys: [SortKey] = []
        keys.reserveCapacity(count)
        for index in 0..<entries.count where entries[index].occupied {
            keys.append(
                SortKey(name: entries[index].name, id: entries[index].id, ascii: entries[index].ascii, index: index))
        }
        keys.withUnsafeMutableBufferPointer { keys in
            keys.sort { left, right in
                if left.ascii && right.ascii {
                    if left.name0 != right.name0 { return left.name0 < right.name0 }
                    if left.name1 != right.name1 { return left.name1 < right.name1 }
                    // Equal first 16 bytes and lengths up to 16: the names are equal.
                    if !(left.nameLength == right.nameLength && left.nameLength <= 16) {
                        let order = withBytes(entries[Int(left.index)].name, entries[Int(right.index)].name) {
                            compareBytes($0, $1)
                        }
                        if order != 0 { return order < 0 }
                    }
                    if left.id0 != right.id0 { return left.id0 < right.id0 }
                    return withBytes(entries[Int(left.index)].id, entries[Int(right.index)].id) {
                        compareBytes($0, $1)
                    } < 0
                }
                let leftEntry = entries[Int(left.index)]
                let rightEntry = entries[Int(right.index)]
                return leftEntry.name != rightEntry.name
                    ? leftEntry.name < rightEntry.name : leftEntry.id < rightEntry.id
            }
        }
        return keys.map { Int($0.index) }
    }

    /// What `sortedIndices` sorts by: the leading bytes of an entry's name and id.
    private struct SortKey {
        var name0: UInt64
        var name1: UInt64
        var id0: UInt64
        var nameLength: Int32
        var index: Int32
        var ascii: Bool

        init(name: borrowing String, id: borrowing String, ascii: Bool, index: Int) {
            (name0, name1) = withStoredBytes(name) { (Self.word($0, at: 0), Self.word($0, at: 8)) }
            id0 = withStoredBytes(id) { Self.word($0, at: 0) }
            nameLength = Int32(truncatingIfNeeded: name.utf8.count)
            self.index = Int32(index)
            self.ascii = ascii
        }

        /// Bytes `start..<start + 8` of `bytes` (zeros past the end) as a big-endian word.
        @inline(__always)
        private static func word(_ bytes: UnsafeRawBufferPointer, at start: Int) -> UInt64 {
            guard let base = bytes.baseAddress, start < bytes.count else { return 0 }
            if start + 8 <= bytes.count {
                return UInt64(bigEndian: base.loadUnaligned(fromByteOffset: start, as: UInt64.self))
            }
            var word: UInt64 = 0
            for offset in 0..<8 {
                word <<= 8
                if start + offset < bytes.count { word |= UInt64(base.load(fromByteOffset: start + offset, as: UInt8.self)) }
            }
            return word
        }
    }

    private mutating func place(index: Int, hash: UInt32) {
        let mask = slots.count - 1
        var position = Int(hash) & mask
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = UInt64(hash) << 32 | UInt64(index + 1)
    }

    /// Empties `hole` and moves later entries of its probe run back so every entry stays
    /// reachable from its home position.
    private mutating func shiftBack(from hole: Int, mask: Int) {
        var hole = hole
        var next = hole
        while true {
            next = (next + 1) & mask
            let slot = slots[next]
            if slot == 0 { break }
            let home = Int(UInt32(truncatingIfNeeded: slot >> 32)) & mask
            // The entry at `next` stays when its home lies cyclically in (hole, next].
            let stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if stays { continue }
            slots[hole] = slot
            hole = next
        }
        slots[hole] = 0
    }

    /// Doubles the slots: at once for a small table, else by starting to move entries over.
    private mutating func grow() {
        finishGrowing()
        let capacity = max(16, slots.count * 2)
        guard entries.count >= incrementalGrowthMinimum else {
            resizeSlots(capacity)
            return
        }
        oldSlots = slots
        slots = [UInt64](repeating: 0, count: capacity)
        migrated = 0
        migrationEnd = entries.count
        migrate(ServiceTable.migrationStep)
    }

    /// Places the next `limit` entries (by index) not moved yet into the new slots; drops the
    /// old slots once every entry is moved.
    private mutating func migrate(_ limit: Int) {
        let end = min(migrationEnd, migrated + limit)
        for index in migrated..<end where entries[index].occupied {
            place(index: index, hash: entries[index].hash)
        }
        migrated = end
        if migrated == migrationEnd {
            oldSlots = []
            migrated = 0
            migrationEnd = 0
        }
    }

    /// Moves every entry not moved yet (before a bulk operation or the next growth).
    private mutating func finishGrowing() {
        if isGrowing { migrate(migrationEnd - migrated) }
    }

    private mutating func resizeSlots(_ capacity: Int) {
        finishGrowing()
        slots = [UInt64](repeating: 0, count: capacity)
        for index in 0..<entries.count where entries[index].occupied {
            place(index: index, hash: entries[index].hash)
        }
    }
}

/// Whether `string` has the UTF-8 `bytes` (compared eight bytes at a time). The lengths are
/// compared on the stored bytes: asking the string for its count first read its layout twice.
@inline(__always)
func sameBytes(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
    let utf8 = string.utf8
    return utf8.withContiguousStorageIfAvailable { stored in
        sameBytes(UnsafeRawBufferPointer(stored), bytes)
    } ?? (utf8.count == bytes.count && utf8.elementsEqual(bytes))
}

/// Lexicographic order of two byte strings: negative, zero or positive.
func compareBytes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
    let common = min(left.count, right.count)
    var offset = 0
    if let leftBase = left.baseAddress, let rightBase = right.baseAddress {
        while offset + 8 <= common {
            let leftWord = UInt64(bigEndian: leftBase.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let rightWord = UInt64(bigEndian: rightBase.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            if leftWord != rightWord { return leftWord < rightWord ? -1 : 1 }
            offset += 8
        }
    }
    while offset < common {
        let difference = Int(left[offset]) - Int(right[offset])
        if difference != 0 { return difference }
        offset += 1
    }
    return left.count - right.count
}

/// Whether two buffers hold the same bytes.
@inline(__always)
func sameBytes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
    let count = left.count
    guard count == right.count else { return false }
    guard count > 0 else { return true }
    guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return false }
    var offset = 0
    while offset + 8 <= count {
        if leftBase.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            != rightBase.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        {
            return false
        }
        offset += 8
    }
    guard offset < count else { return true }
    // The tail as the word (or two half words) ending the bytes, overlapping bytes compared
    // already: a renew's node of 9 to 15 bytes was a word and a byte loop of up to 7.
    if count >= 8 {
        return leftBase.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
            == rightBase.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }
    if count >= 4 {
        return leftBase.loadUnaligned(as: UInt32.self) == rightBase.loadUnaligned(as: UInt32.self)
            && leftBase.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                == rightBase.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
    }
    while offset < count {
        if leftBase.load(fromByteOffset: offset, as: UInt8.self)
            != rightBase.load(fromByteOffset: offset, as: UInt8.self)
        {
            return false
        }
        offset += 1
    }
    return true
}

/// Open addressing over `slots` (each `hash << 32 | (index + 1)`, 0 when empty): calls
/// `candidate` with the index each slot filed under `hash` names, from the hash's home slot to the
/// first empty one, and returns the first index it accepts (nil when none is). The lookups of
/// `ServiceTable` and of a snapshot's deferred lapsed services (`DeferredLapsedEntries`).
@inline(__always)
func probeSlots(_ slots: UnsafeBufferPointer<UInt64>, hash: UInt32, _ candidate: (Int) -> Bool) -> Int? {
    let mask = slots.count - 1
    var position = Int(hash) & mask
    while true {
        let slot = slots[position]
        if slot == 0 { return nil }
        if UInt32(truncatingIfNeeded: slot >> 32) == hash {
            let index = Int(UInt32(truncatingIfNeeded: slot)) - 1
            if candidate(index) { return index }
        }
        position = (position + 1) & mask
    }
}

/// The hash of (name, id) every `ServiceTable` uses: a folded-multiply hash (the construction of
/// aHash's and wyhash's mixing step) of name's length, name's and id's bytes, eight bytes at a
/// time, keyed by a random seed drawn once per process so a client cannot choose colliding keys.
/// A renew hashes ~50 bytes; `Hasher` (SipHash) spent more on that than the rest of the fold.
///
/// Keys are `String`s, equal when canonically equivalent ("é" precomposed or not, a Kelvin sign
/// and "K"), as the projection's dictionaries treated them: a key that is not all ASCII is hashed
/// in its NFC form, so equivalent keys meet (`ServiceTable.find` then compares them as strings).
@inline(__always)
func serviceHash(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> UInt32 {
    serviceHash(name, id, key: ServiceHashKey.process)
}

/// `serviceHash(_:_:)` with the process's key read once by the caller (`ServiceHashKey.process`):
/// reading the global is a lazy initialiser's check, which a hash per record paid every time.
@inline(__always)
func serviceHash(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, key: ServiceHashKey) -> UInt32 {
    let (hash, ascii) = hashBytes(name, id, key: key)
    return ascii ? hash : canonicalServiceHash(name, id, key: key)
}

@inline(never)
private func canonicalServiceHash(
    _ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, key: ServiceHashKey
) -> UInt32 {
    let nameUnits = String(decoding: name, as: UTF8.self)._nfcCodeUnits
    let idUnits = String(decoding: id, as: UTF8.self)._nfcCodeUnits
    return nameUnits.withUnsafeBytes { name in idUnits.withUnsafeBytes { id in hashBytes(name, id, key: key).hash } }
}

/// The hash of the bytes of (name, id), and whether they are all ASCII.
@inline(__always)
private func hashBytes(
    _ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, key: ServiceHashKey
) -> (hash: UInt32, ascii: Bool) {
    let key = (key.first, key.second)
    var highBits: UInt64 = 0
    var state = key.0 ^ UInt64(truncatingIfNeeded: name.count)
    state = absorbWords(name, state, key.1, &highBits)
    state = absorbWords(id, state, key.1, &highBits)
    let hash = UInt32(truncatingIfNeeded: foldedMultiply(state ^ key.0, key.1 ^ 0x9E37_79B9_7F4A_7C15))
    return (hash, highBits & 0x8080_8080_8080_8080 == 0)
}

/// The key of `serviceHash`: two random words (the second odd), drawn once per process.
public struct ServiceHashKey: Sendable {
    let first: UInt64
    let second: UInt64

    /// The process's key (the same for every table, so hashes computed apart meet).
    public static var process: ServiceHashKey { serviceHashKey }
}

private let serviceHashKey: ServiceHashKey = {
    var random = SystemRandomNumberGenerator()
    return ServiceHashKey(first: random.next(), second: random.next() | 1)
}()

/// The 128-bit product of `left` and `right`, its halves xor-ed.
@inline(__always)
private func foldedMultiply(_ left: UInt64, _ right: UInt64) -> UInt64 {
    let product = left.multipliedFullWidth(by: right)
    return product.high ^ product.low
}

/// Mixes `bytes` into `state` eight bytes at a time (the last word zero-padded and tagged with
/// its length, so "a" and "a\0" differ).
@inline(__always)
private func absorbWords(
    _ bytes: UnsafeRawBufferPointer,
    _ state: UInt64,
    _ key: UInt64,
    _ highBits: inout UInt64
) -> UInt64 {
    var state = state
    let count = bytes.count
    var offset = 0
    if let base = bytes.baseAddress {
        while offset + 8 <= count {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            highBits |= word
            state = foldedMultiply(state ^ word, key)
            offset += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        if count >= 8, offset < count {
            // The last bytes as the top of the word ending the buffer (the same value the byte
            // loop builds, without a load per byte).
            shift = UInt64(count - offset) * 8
            tail = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) >> (64 - shift)
            offset = count
        }
        while offset < count {
            tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
            shift += 8
            offset += 1
        }
        highBits |= tail
        return foldedMultiply(state ^ tail, key ^ (shift &+ 1))
    }
    return foldedMultiply(state, key ^ 1)
}

/// No bytes: the id of a key that is one string (a name, an interned string).
var noBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

/// Calls `body` with the UTF-8 bytes of `first` and `second`.
@inline(__always)
func withBytes<Result>(
    _ first: String,
    _ second: String,
    _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result
) -> Result {
    var first = first
    var second = second
    return first.withUTF8 { one in
        second.withUTF8 { two in body(UnsafeRawBufferPointer(one), UnsafeRawBufferPointer(two)) }
    }
}

/// Calls `body` with the UTF-8 bytes of `string` where it keeps them (no copy of the string, so
/// no reference count traffic for a stored key); copies only a string not stored as UTF-8.
@inline(__always)
func withStoredBytes<Result>(_ string: borrowing String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    if let result = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    var copy = copy string
    return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}

/// Calls `body` with the UTF-8 bytes of `string`.
@inline(__always)
func withBytes<Result>(_ string: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    var string = string
    return string.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}
