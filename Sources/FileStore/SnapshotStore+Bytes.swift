import EventLog
import Registry

extension SnapshotStore {
    /// The projection bytes the snapshot at `sequence` holds (`Projection.snapshotBytes()`'s form,
    /// decompressed, both checksums checked) without decoding them; throws `SnapshotError` when the
    /// snapshot is damaged. Equal projections encode to equal bytes, so a check of a snapshot
    /// against a fold can compare bytes and decode only when they differ.
    public func projectionBytes(sequence: UInt64) throws -> [UInt8] {
        let file = path(for: sequence)
        let bytes = try FileIO.readFile(file, bytesMax: SnapshotStore.rawBytesMax)
        let header = try parseHeader(bytes, fileBytes: bytes.count, file: file, sequence: sequence)
        // Checked and decompressed in place (a copy of the body was 3 MB at 100,000 leases).
        let decompressed = bytes.withUnsafeBytes { stored in
            let body = UnsafeRawBufferPointer(rebasing: stored[SnapshotStore.headerBytes...])
            guard CRC32C.checksum(body) == header.bodyChecksum else {
                return Result<[UInt8], SnapshotError>.failure(SnapshotError(file: file, reason: "body checksum mismatch"))
            }
            return Result { () throws(Zstd.Failure) in try Zstd.decompress(body, size: header.rawBytes) }
                .mapError { SnapshotError(file: file, reason: $0.description) }
        }
        return try decompressed.get()
    }
}
