#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import EventLog
import Logging
import Registry

/// A snapshot that cannot be used: which file and why.
public struct SnapshotError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var reason: String

    public var description: String {
        "snapshot \(file): \(reason); it is skipped (an older snapshot or a full replay is used), "
            + "delete it once investigated"
    }
}

/// What a snapshot's header says, read without decompressing.
public struct SnapshotInfo: Sendable, Equatable {
    public var sequence: UInt64
    /// The time of the last record folded into it.
    public var lastTimeMicroseconds: Int64
    public var fileBytes: Int

    public init(sequence: UInt64, lastTimeMicroseconds: Int64, fileBytes: Int) {
        self.sequence = sequence
        self.lastTimeMicroseconds = lastTimeMicroseconds
        self.fileBytes = fileBytes
    }
}

/// The snapshots of a data directory (`DATA/snapshots`), readable without the writer lock.
///
/// File `SEQUENCE.snap` (20 digits) holds the projection at `SEQUENCE`: a 48-byte header
/// (magic `TRSNAP01`, sequence, last record time, raw bytes, compressed bytes as
/// little-endian 64-bit fields, CRC-32C of the body, CRC-32C of the header before it), then
/// the zstd-compressed projection. Written to a temporary file, fsynced, renamed, and the
/// directory fsynced, so a crash leaves the old set or the new one.
public struct SnapshotStore: RegistrySnapshotStore {
    public let directory: String
    static let magic: [UInt8] = Array("TRSNAP01".utf8)
    static let headerBytes = 48
    /// Larger snapshots are treated as damage.
    static let rawBytesMax = 4 << 30

    public init(directory: String) {
        self.directory = directory
    }

    /// Sequences of the snapshots present, oldest first (valid or not).
    public func sequences() throws -> [UInt64] {
        guard FileIO.exists(directory) else { return [] }
        return try FileIO.list(directory).compactMap { name in
            guard name.hasSuffix(".snap"), name.count == 25 else { return nil }
            return UInt64(name.prefix(20))
        }.sorted()
    }

    /// The header of the snapshot at `sequence`.
    public func info(sequence: UInt64) throws -> SnapshotInfo {
        let file = path(for: sequence)
        let fileBytes = try FileIO.fileSize(file)
        let header = try FileIO.readPrefix(file, count: SnapshotStore.headerBytes)
        return try parseHeader(header, fileBytes: fileBytes, file: file, sequence: sequence).info
    }

    /// The projection stored at `sequence`; throws `SnapshotError` when the snapshot is damaged.
    /// `deferringLapsed`: as for `Projection(snapshotBytes:deferringLapsed:)`.
    public func load(sequence: UInt64, deferringLapsed: Bool = false) throws -> Projection {
        let raw = try projectionBytes(sequence: sequence)
        let file = path(for: sequence)
        do {
            let projection = try Projection(snapshotBytes: raw, deferringLapsed: deferringLapsed)
            guard projection.lastSequence == sequence else {
                throw SnapshotError(
                    file: file, reason: "holds sequence \(projection.lastSequence), its name says \(sequence)")
            }
            return projection
        } catch let error as SnapshotDecodingError {
            throw SnapshotError(file: file, reason: error.description)
        }
    }

    /// The newest snapshot at or before `sequence` that loads, skipping (and logging)
    /// damaged ones; nil when none does.
    public func loadNewestValid(atOrBefore sequence: UInt64 = .max, logger: Logger) -> Projection? {
        let candidates: [UInt64]
        do {
            candidates = try sequences().filter { $0 <= sequence }
        } catch {
            logger.warning("cannot list snapshots, replaying the whole log", metadata: ["error": "\(error)"])
            return nil
        }
        for candidate in candidates.reversed() {
            do {
                return try load(sequence: candidate)
            } catch {
                logger.warning(
                    "snapshot skipped", metadata: ["snapshot.sequence": "\(candidate)", "error": "\(error)"])
            }
        }
        return nil
    }

    public func loadNewest(atOrBefore sequence: UInt64, logger: Logger) async -> Projection? {
        loadNewestValid(atOrBefore: sequence, logger: logger)
    }

    public func write(_ projection: Projection, keep: Int) async throws -> Int {
        try writeFile(projection, keep: keep)
    }

    /// Writes the projection as the snapshot at its `lastSequence`, then keeps only the
    /// newest `keep` snapshots. Returns the file's size in bytes.
    @discardableResult
    public func write(_ projection: Projection, keep: Int = 3) throws -> Int {
        try writeFile(projection, keep: keep)
    }

    private func writeFile(_ projection: Projection, keep: Int) throws -> Int {
        try FileIO.makeDirectories(directory)
        let raw = projection.snapshotBytes()
        let body = try Zstd.compress(raw)
        var header: [UInt8] = []
        header.reserveCapacity(SnapshotStore.headerBytes + body.count)
        header += SnapshotStore.magic
        header.appendLittleEndian(projection.lastSequence)
        header.appendLittleEndian(UInt64(bitPattern: projection.lastTimeMicroseconds))
        header.appendLittleEndian(UInt64(raw.count))
        header.appendLittleEndian(UInt64(body.count))
        header.appendLittleEndian(CRC32C.checksum(body))
        header.appendLittleEndian(CRC32C.checksum(header))
        header += body
        let file = path(for: projection.lastSequence)
        try FileIO.writeAtomically(
            header, to: file, temporaryPath: directory + "/.snapshot.tmp", directory: directory)
        try prune(keep: keep)
        return header.count
    }

    /// Deletes all but the newest `keep` snapshots (at least one is always kept).
    public func prune(keep: Int) throws {
        let present = try sequences()
        for sequence in present.dropLast(max(1, keep)) {
            try FileIO.unlinkFile(path(for: sequence))
        }
    }

    /// The file of the snapshot at `sequence` (20 digits, `.snap`).
    public func path(for sequence: UInt64) -> String {
        let digits = String(sequence)
        return directory + "/" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".snap"
    }

    struct Header {
        var info: SnapshotInfo
        var rawBytes: Int
        var bodyChecksum: UInt32
    }

    /// Reads the header from `bytes` (at least its 48 bytes) of a file of `fileBytes` bytes.
    func parseHeader(
        _ bytes: [UInt8], fileBytes: Int, file: String, sequence: UInt64
    ) throws(SnapshotError) -> Header {
        guard bytes.count >= SnapshotStore.headerBytes else {
            throw SnapshotError(
                file: file, reason: "\(bytes.count) bytes, shorter than the \(SnapshotStore.headerBytes)-byte header")
        }
        guard Array(bytes[0..<8]) == SnapshotStore.magic else {
            throw SnapshotError(file: file, reason: "bad magic, not a snapshot")
        }
        do {
            let storedSequence = bytes.littleEndian(UInt64.self, at: 8)
            let lastTime = Int64(bitPattern: bytes.littleEndian(UInt64.self, at: 16))
            let rawBytes = bytes.littleEndian(UInt64.self, at: 24)
            let compressedBytes = bytes.littleEndian(UInt64.self, at: 32)
            let bodyChecksum = bytes.littleEndian(UInt32.self, at: 40)
            let headerChecksum = bytes.littleEndian(UInt32.self, at: 44)
            guard CRC32C.checksum(Array(bytes[0..<44])) == headerChecksum else {
                throw SnapshotError(file: file, reason: "header checksum mismatch")
            }
            guard storedSequence == sequence else {
                throw SnapshotError(
                    file: file, reason: "header holds sequence \(storedSequence), its name says \(sequence)")
            }
            guard compressedBytes == UInt64(fileBytes - SnapshotStore.headerBytes) else {
                throw SnapshotError(
                    file: file,
                    reason:
                        "body is \(fileBytes - SnapshotStore.headerBytes) bytes, header says \(compressedBytes) (torn write?)"
                )
            }
            guard rawBytes <= UInt64(SnapshotStore.rawBytesMax) else {
                throw SnapshotError(file: file, reason: "raw size \(rawBytes) exceeds \(SnapshotStore.rawBytesMax)")
            }
            return Header(
                info: SnapshotInfo(sequence: sequence, lastTimeMicroseconds: lastTime, fileBytes: fileBytes),
                rawBytes: Int(rawBytes), bodyChecksum: bodyChecksum)
        } catch let error as SnapshotError {
            throw error
        } catch {
            throw SnapshotError(file: file, reason: "\(error)")
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// The little-endian integer at `offset`; the caller checked the length.
    fileprivate func littleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        var value: T = 0
        for index in (0..<MemoryLayout<T>.size).reversed() {
            value = value << 8 | T(self[offset + index])
        }
        return value
    }
}
