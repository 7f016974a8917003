import EventLog
import FileStore
import Registry
import Testing

/// `SnapshotChecksum` (a snapshot body's check, with the crc32 instruction where there is one)
/// gives exactly the log's table-driven `CRC32C`.
@Suite struct SnapshotChecksumTests {
    // Proves the checksum equals CRC32C's on the check string and on random bytes of every length
    // up to 300 at each start within a word, continued from a CRC of other bytes or from none.
    @Test func equalsTheTableDrivenChecksum() {
        #expect(Array("123456789".utf8).withUnsafeBytes { SnapshotChecksum.checksum($0) } == 0xE306_9283)
        var random = SplitMix64(seed: 17)
        let bytes = (0..<320).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        bytes.withUnsafeBytes { all in
            for start in 0..<8 {
                for length in 0...300 {
                    let slice = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
                    let initial = UInt32(truncatingIfNeeded: random.next())
                    let place = "start \(start) length \(length)"
                    #expect(SnapshotChecksum.checksum(slice) == CRC32C.checksum(slice), "\(place)")
                    #expect(
                        SnapshotChecksum.checksum(slice, continuing: initial)
                            == CRC32C.checksum(slice, continuing: initial), "\(place)")
                }
            }
        }
    }
}
