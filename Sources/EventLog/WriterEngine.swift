import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The segment being appended.
struct ActiveSegment: Sendable {
    var fileName: String
    var path: String
    var fd: Int32
    var firstSequence: UInt64
    var createdMicroseconds: Int64
    /// Bytes of whole frames; the next commit is written here.
    var bytes: Int
    var commitCount: Int
    var firstTimestampMicroseconds: Int64
    var lastTimestampMicroseconds: Int64
}

/// The writer thread's state: encodes, compresses, writes and syncs one commit at a time,
/// rotating segments by size and age. Only the writer thread touches it after open.
final class WriterEngine: @unchecked Sendable {
    let configuration: EventLogConfiguration
    let logger: Logger
    private let clock: @Sendable () -> Int64
    private let onSealed: @Sendable (String) -> Void
    private let compressor: StreamCompressor
    private var active: ActiveSegment?
    private(set) var nextSequence: UInt64
    private var lastTimestamp: Int64
    /// The next commit begins a new zstd frame (each segment start and each process start).
    private var startsZstdFrame = true
    private var plain: [UInt8] = []
    private var frame: [UInt8] = []
    private var unsyncedSinceNanoseconds: UInt64?

    init(
        configuration: EventLogConfiguration, logger: Logger, clock: @escaping @Sendable () -> Int64,
        recovered: RecoveredLog, onSealed: @escaping @Sendable (String) -> Void
    ) {
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.onSealed = onSealed
        self.compressor = StreamCompressor(level: configuration.compressionLevel)
        self.active = recovered.active
        self.nextSequence = recovered.nextSequence
        self.lastTimestamp = recovered.lastTimestampMicroseconds
    }

    /// Writes the payloads of several appends as one commit; returns the first record's position.
    /// `failingWrite` (tests only) writes half the frame, then fails as a full disk would.
    func commit(_ groups: [[[UInt8]]], failingWrite: Bool = false) throws -> LogPosition {
        let recordCount = groups.reduce(0) { $0 + $1.count }
        let plainBytes = groups.reduce(0) { $0 + RecordLayout.plainBytes(of: $1) }
        precondition(recordCount > 0 && recordCount <= Int(UInt32.max), "commit of \(recordCount) records")
        let timestamp = max(clock(), lastTimestamp)
        try rotateIfNeeded(timestamp: timestamp, plainBytes: plainBytes)
        if active == nil { try createSegment(createdMicroseconds: timestamp) }
        guard var segment = active else { preconditionFailure("no active segment after create") }

        plain.removeAll(keepingCapacity: true)
        for group in groups { RecordLayout.appendRecords(group, to: &plain) }
        let frameBytes = try compressFrame(
            recordCount: recordCount, timestamp: timestamp, path: segment.path)
        do {
            if failingWrite {
                try frame.withUnsafeBytes {
                    let half = UnsafeRawBufferPointer(rebasing: $0[0..<(frameBytes / 2)])
                    try FileIO.write(segment.fd, half, at: segment.bytes, path: segment.path)
                }
                throw EventLogError.io(operation: "write", path: segment.path, errno: ENOSPC)
            }
            try frame.withUnsafeBytes {
                try FileIO.write(
                    segment.fd, UnsafeRawBufferPointer(rebasing: $0[0..<frameBytes]), at: segment.bytes,
                    path: segment.path)
            }
            try syncAfterCommit(segment)
        } catch {
            undoPartialWrite(segment)
            throw error
        }
        startsZstdFrame = false
        let position = LogPosition(sequence: nextSequence, timestampMicroseconds: timestamp)
        if segment.commitCount == 0 { segment.firstTimestampMicroseconds = timestamp }
        segment.lastTimestampMicroseconds = timestamp
        segment.commitCount += 1
        segment.bytes += frameBytes
        active = segment
        nextSequence += UInt64(recordCount)
        lastTimestamp = timestamp
        return position
    }

    /// Compresses `plain` into `frame` behind a frame header; returns the frame's bytes.
    private func compressFrame(recordCount: Int, timestamp: Int64, path: String) throws -> Int {
        if startsZstdFrame { compressor.startNewFrame() }
        let headerBytes = SegmentFormat.frameHeaderBytes
        let capacity = headerBytes + StreamCompressor.bound(plainBytes: plain.count)
        if frame.count < capacity { frame = [UInt8](repeating: 0, count: capacity) }
        let compressed = plain.withUnsafeBytes { source in
            frame.withUnsafeMutableBytes { output in
                compressor.compressFlush(source, into: UnsafeMutableRawBufferPointer(rebasing: output[headerBytes...]))
            }
        }
        let payloadBytes: Int
        switch compressed {
        case .failure(let failure):
            startsZstdFrame = true
            throw EventLogError.io(operation: failure.reason, path: path, errno: 0)
        case .success(let bytes):
            payloadBytes = bytes
        }
        let checksum = frame.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[headerBytes..<(headerBytes + payloadBytes)]))
        }
        let header = FrameHeader(
            kind: .commit, startsZstdFrame: startsZstdFrame, payloadBytes: payloadBytes, plainBytes: plain.count,
            recordCount: recordCount, firstSequence: nextSequence, timestampMicroseconds: timestamp,
            payloadChecksum: checksum)
        header.store(into: &frame, at: 0)
        return headerBytes + payloadBytes
    }

    private func syncAfterCommit(_ segment: ActiveSegment) throws {
        switch configuration.fsync {
        case .always:
            try FileIO.syncData(segment.fd, path: segment.path)
        case .interval(let milliseconds):
            let now = Condition.monotonicNanoseconds()
            let since = unsyncedSinceNanoseconds ?? now
            if now >= since + UInt64(max(0, milliseconds)) * 1_000_000 {
                try FileIO.syncData(segment.fd, path: segment.path)
                unsyncedSinceNanoseconds = nil
            } else {
                unsyncedSinceNanoseconds = since
            }
        case .never:
            break
        }
    }

    /// A failed write or sync leaves the file as it was before the commit and restarts the
    /// zstd stream (its state already holds the failed commit).
    private func undoPartialWrite(_ segment: ActiveSegment) {
        startsZstdFrame = true
        do {
            try FileIO.truncate(segment.fd, to: segment.bytes, path: segment.path)
        } catch {
            logger.error(
                "could not cut a failed commit off the segment",
                metadata: ["log.file": "\(segment.path)", "log.error": "\(error)"])
        }
    }

    /// The monotonic time (ns) by which unsynced commits must be synced (`interval` policy).
    func syncDeadline() -> UInt64? {
        guard case .interval(let milliseconds) = configuration.fsync, let since = unsyncedSinceNanoseconds else {
            return nil
        }
        return since + UInt64(max(0, milliseconds)) * 1_000_000
    }

    /// Syncs commits written under `interval`, logging a failure (their appenders already resumed).
    func syncPending() {
        guard unsyncedSinceNanoseconds != nil, let segment = active else { return }
        unsyncedSinceNanoseconds = nil
        do {
            try FileIO.syncData(segment.fd, path: segment.path)
        } catch {
            logger.error(
                "interval fdatasync failed", metadata: ["log.file": "\(segment.path)", "log.error": "\(error)"])
        }
    }

    private func rotateIfNeeded(timestamp: Int64, plainBytes: Int) throws {
        guard let segment = active, segment.commitCount > 0 else { return }
        let projected =
            segment.bytes + SegmentFormat.frameHeaderBytes + StreamCompressor.bound(plainBytes: plainBytes)
            + SegmentFormat.sealFrameBytes
        let bySize = projected > configuration.segmentBytesMax
        let byAge = timestamp - segment.createdMicroseconds >= Int64(configuration.segmentAgeSecondsMax) * 1_000_000
        if bySize || byAge { try sealActive() }
    }

    /// Ends the active segment with a seal frame, syncs it, and hands it to the sealer.
    func sealActive() throws {
        guard let segment = active, segment.commitCount > 0 else { return }
        let seal = SealInfo(
            lastSequence: nextSequence - 1, firstTimestampMicroseconds: segment.firstTimestampMicroseconds,
            lastTimestampMicroseconds: segment.lastTimestampMicroseconds, commitCount: UInt64(segment.commitCount))
        do {
            try FileIO.write(segment.fd, seal.encodedFrame(), at: segment.bytes, path: segment.path)
            try FileIO.syncData(segment.fd, path: segment.path)
        } catch {
            undoPartialWrite(segment)
            throw error
        }
        FileIO.closeFile(segment.fd)
        active = nil
        unsyncedSinceNanoseconds = nil
        startsZstdFrame = true
        logger.debug(
            "sealed segment",
            metadata: ["log.file": "\(segment.fileName)", "log.last_sequence": "\(nextSequence - 1)"])
        onSealed(segment.fileName)
    }

    private func createSegment(createdMicroseconds: Int64) throws {
        let fileName = SegmentFormat.fileName(firstSequence: nextSequence)
        let path = configuration.directory + "/" + fileName
        let fd = try FileIO.openFile(path, flags: O_RDWR | O_CREAT | O_TRUNC, operation: "create segment")
        let header = SegmentHeader(form: .stream, firstSequence: nextSequence, createdMicroseconds: createdMicroseconds)
        do {
            try FileIO.write(fd, header.encoded(), at: 0, path: path)
            try FileIO.syncData(fd, path: path)
            try FileIO.syncDirectory(configuration.directory)
        } catch {
            FileIO.closeFile(fd)
            try? FileIO.unlinkFile(path)
            throw error
        }
        active = ActiveSegment(
            fileName: fileName, path: path, fd: fd, firstSequence: nextSequence,
            createdMicroseconds: createdMicroseconds, bytes: SegmentFormat.headerBytes, commitCount: 0,
            firstTimestampMicroseconds: 0, lastTimestampMicroseconds: 0)
        startsZstdFrame = true
    }

    /// Syncs and closes the active segment without sealing it (the next open continues it).
    func close() throws {
        guard let segment = active else { return }
        active = nil
        defer { FileIO.closeFile(segment.fd) }
        try FileIO.syncData(segment.fd, path: segment.path)
    }
}
