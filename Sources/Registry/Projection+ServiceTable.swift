/// A hash table of values keyed by a pair of strings, (name, id), that is looked up by borrowed
/// UTF-8 bytes: the fold finds a lease from the bytes of a log record without building a `String`,
/// and hashes the pair once (a dictionary of dictionaries hashed name and id separately).
///
/// Open addressing with linear probing over `slots` (each the entry's 32-bit hash and its index
/// plus one; 0 is empty); removal shifts the probe run back, so there are no tombstones. Entries
/// keep their index while they live (an index is a stable handle: the lease index and the
/// projection's string numbers are entry indices) and freed indices are reused.
struct ServiceTable<Value: Sendable>: Sendable {
    private(set) var names: [String] = []
    private(set) var ids: [String] = []
    private(set) var values: [Value] = []
    private var hashes: [UInt32] = []
    private var occupied: [Bool] = []
    private var free: [Int32] = []
    private var slots: [UInt64] = []
    /// Entries in use.
    private(set) var count = 0

    init() {}

    /// One past the highest entry index ever used: iterate `0..<capacity` and skip `!contains(index:)`.
    var capacity: Int { names.count }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    func contains(index: Int) -> Bool { occupied[index] }

    /// The entry index of (name, id), nil when absent.
    @inline(__always)
    func find(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> Int? {
        find(name, id, hash: serviceHash(name, id))
    }

    func find(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, hash: UInt32) -> Int? {
        guard count > 0 else { return nil }
        let mask = slots.count - 1
        var position = Int(hash) & mask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if UInt32(truncatingIfNeeded: slot >> 32) == hash {
                let index = Int(UInt32(truncatingIfNeeded: slot)) - 1
                if ServiceTable.equal(names[index], name) && ServiceTable.equal(ids[index], id) { return index }
            }
            position = (position + 1) & mask
        }
    }

    /// The entry index of (name, id) given as strings, nil when absent.
    func find(name: String, id: String) -> Int? {
        withBytes(name, id) { find($0, $1) }
    }

    /// Adds (name, id) → value, which must be absent (`find` first); returns its entry index.
    /// `name` and `id` are the stored keys: pass strings shared with other entries where possible.
    @discardableResult
    mutating func insert(name: String, id: String, hash: UInt32, _ value: Value) -> Int {
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let index: Int
        if let reused = free.popLast() {
            index = Int(reused)
            names[index] = name
            ids[index] = id
            values[index] = value
            hashes[index] = hash
            occupied[index] = true
        } else {
            precondition(names.count < Int(Int32.max), "service table full at \(names.count) entries")
            index = names.count
            names.append(name)
            ids.append(id)
            values.append(value)
            hashes.append(hash)
            occupied.append(true)
        }
        place(index: index, hash: hash)
        count += 1
        return index
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
        precondition(occupied[index], "entry \(index) removed but not in use")
        let mask = slots.count - 1
        let target = UInt64(index + 1)
        var position = Int(hashes[index]) & mask
        while UInt32(truncatingIfNeeded: slots[position]) != UInt32(truncatingIfNeeded: target) {
            position = (position + 1) & mask
        }
        shiftBack(from: position, mask: mask)
        occupied[index] = false
        names[index] = ""
        ids[index] = ""
        free.append(Int32(index))
        count -= 1
        return values[index]
    }

    subscript(index: Int) -> Value {
        get { values[index] }
        _modify { yield &values[index] }
        set { values[index] = newValue }
    }

    /// Entry indices in use, in no particular order.
    var indices: [Int] {
        var result: [Int] = []
        result.reserveCapacity(count)
        for index in 0..<occupied.count where occupied[index] { result.append(index) }
        return result
    }

    /// Entry indices in use, by name then id (string order).
    var sortedIndices: [Int] {
        var result = indices
        result.sort { left, right in
            names[left] != names[right] ? names[left] < names[right] : ids[left] < ids[right]
        }
        return result
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

    private mutating func grow() {
        let capacity = max(16, slots.count * 2)
        slots = [UInt64](repeating: 0, count: capacity)
        for index in 0..<occupied.count where occupied[index] {
            place(index: index, hash: hashes[index])
        }
    }

    @inline(__always)
    static func equal(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        let utf8 = string.utf8
        guard utf8.count == bytes.count else { return false }
        return utf8.withContiguousStorageIfAvailable { stored in
            UnsafeRawBufferPointer(stored).elementsEqual(bytes)
        } ?? utf8.elementsEqual(bytes)
    }
}

/// The hash of (name, id) every `ServiceTable` uses: name's bytes, a 0xFF (never in UTF-8), id's
/// bytes. Seeded per process like every Swift hash, so a client cannot choose colliding keys.
@inline(__always)
func serviceHash(_ name: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer) -> UInt32 {
    var hasher = Hasher()
    hasher.combine(bytes: name)
    hasher.combine(UInt8(0xFF))
    hasher.combine(bytes: id)
    return UInt32(truncatingIfNeeded: hasher.finalize())
}

/// No bytes: the id of a key that is one string (a name, an interned string).
var noBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

/// Calls `body` with the UTF-8 bytes of `first` and `second`.
@inline(__always)
func withBytes<Result>(
    _ first: String, _ second: String, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result
) -> Result {
    var first = first
    var second = second
    return first.withUTF8 { one in second.withUTF8 { two in body(UnsafeRawBufferPointer(one), UnsafeRawBufferPointer(two)) } }
}

/// Calls `body` with the UTF-8 bytes of `string`.
@inline(__always)
func withBytes<Result>(_ string: String, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
    var string = string
    return string.withUTF8 { body(UnsafeRawBufferPointer($0)) }
}
