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

    init() {}

    subscript(index: Int) -> Element {
        @inline(__always) _read { yield chunks[index >> Self.shift][index & (Self.chunkSize - 1)] }
        @inline(__always) _modify { yield &chunks[index >> Self.shift][index & (Self.chunkSize - 1)] }
    }

    /// Calls `body` with the address of the element at `index` (nothing when out of range).
    @inline(__always)
    func withAddress(of index: Int, _ body: (UnsafeRawPointer) -> Void) {
        // The chunk is borrowed through the outer buffer: read as `chunks[i]` it was retained and
        // released per call (the prefetch calls this for every record it folds).
        chunks.withUnsafeBufferPointer { chunks in
            let chunkIndex = index >> Self.shift
            guard chunkIndex >= 0, chunkIndex < chunks.count else { return }
            chunks[chunkIndex].withUnsafeBufferPointer { chunk in
                guard let base = chunk.baseAddress, index & (Self.chunkSize - 1) < chunk.count else { return }
                body(UnsafeRawPointer(base + (index & (Self.chunkSize - 1))))
            }
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
