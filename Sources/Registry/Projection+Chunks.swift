/// A growing array stored in chunks of `chunkSize` elements: appending never copies the elements
/// before. `ServiceTable` keeps its entries so; as one array, the insert that doubled it copied
/// every entry (65,536 lapsed services, 9 MB, held the registry ~7 ms in one sweeper turn).
struct ChunkedArray<Element: Sendable>: Sendable {
    /// Chunks of 2^12 elements (a lapsed service's entry is ~136 bytes: ~0.5 MB a chunk).
    static var shift: Int { 12 }
    static var chunkSize: Int { 1 << shift }

    private var chunks: [[Element]] = []
    /// Elements stored.
    private(set) var count = 0
    /// `arrayElementsOffset`, read once here rather than on every `withAddress`.
    private let elementsOffset = MemoryLayout<Element>.alignment <= 8 ? arrayElementsOffset : nil

    init() {}

    subscript(index: Int) -> Element {
        @inline(__always) _read { yield chunks[index >> Self.shift][index & (Self.chunkSize - 1)] }
        @inline(__always) _modify { yield &chunks[index >> Self.shift][index & (Self.chunkSize - 1)] }
    }

    /// Calls `body` with the address of the element at `index` (nothing when out of range), for
    /// prefetching. The chunk is read through its storage object's layout when that layout is the
    /// one `arrayElementsOffset` checked: borrowed as an array, it was retained and released per
    /// call, and the fold's prefetch calls this twice for every record.
    @inline(__always)
    func withAddress(of index: Int, _ body: (UnsafeRawPointer) -> Void) {
        let chunkIndex = index >> Self.shift
        let offset = index & (Self.chunkSize - 1)
        guard chunkIndex >= 0, chunkIndex < chunks.count else { return }
        guard let elementsOffset else {
            chunks[chunkIndex].withUnsafeBufferPointer { chunk in
                guard let base = chunk.baseAddress, offset < chunk.count else { return }
                body(UnsafeRawPointer(base + offset))
            }
            return
        }
        chunks.withUnsafeBufferPointer { chunks in
            guard let outer = chunks.baseAddress else { return }
            let storage = UnsafeRawPointer(outer + chunkIndex).load(as: UnsafeRawPointer.self)
            guard offset < storage.load(fromByteOffset: arrayCountOffset, as: Int.self) else { return }
            body(storage + elementsOffset + offset * MemoryLayout<Element>.stride)
        }
    }

    /// Appends `element`; a full last chunk starts a new one sized for a whole chunk (the first
    /// grows as an array does, so a small table stays small).
    mutating func append(_ element: Element) {
        if count == chunks.count << Self.shift {
            var chunk: [Element] = []
            if count > 0 { chunk.reserveCapacity(Self.chunkSize) }
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    /// Makes room for `total` elements in the first chunk (the later ones are sized when started).
    mutating func reserveCapacity(_ total: Int) {
        guard count == 0, total > 0 else { return }
        var chunk: [Element] = []
        chunk.reserveCapacity(min(total, Self.chunkSize))
        chunks = [chunk]
    }
}

/// Where an array's count is kept in its storage object (after the object header).
private let arrayCountOffset = 16

/// How far an array's elements (of alignment up to 8) are from the start of its storage object,
/// checked once on a probe array: an array is one reference to that object, which keeps the count
/// at `arrayCountOffset` and the elements from 32 bytes on. Nil when this runtime lays arrays out
/// otherwise (`ChunkedArray.withAddress` then borrows the chunk as an array).
private let arrayElementsOffset: Int? = {
    let probe: [Int] = [7, 8, 9]
    guard MemoryLayout<[Int]>.size == MemoryLayout<UnsafeRawPointer>.size else { return nil }
    return withUnsafeBytes(of: probe) { array in
        let storage = array.load(as: UnsafeRawPointer.self)
        return probe.withUnsafeBufferPointer { elements -> Int? in
            guard let first = elements.baseAddress else { return nil }
            let offset = UnsafeRawPointer(first) - storage
            guard offset == 32, storage.load(fromByteOffset: arrayCountOffset, as: Int.self) == probe.count else {
                return nil
            }
            return offset
        }
    }
}()
