import Testing

@testable import EventLog

/// `Zstd.ReusableDecoder`: frame after frame through one context into one array.
@Suite struct ZstdReusableDecoderTests {
    @Test func framesOfEverySizeDecodeIntoOneArrayAndBadOnesThrow() throws {
        // Proves frames larger and smaller than the last decode exactly into the same array (its
        // storage kept when it is large enough), and that a size other than the frame's, or bytes
        // that are no frame, throw instead of returning short or padded output.
        let decoder = Zstd.ReusableDecoder()
        var output: [UInt8] = []
        let sizes = [1_000, 50_000, 10, 0, 50_000, 200_000]
        for (index, size) in sizes.enumerated() {
            let plain = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }
            let frame = try Zstd.compress(plain)
            let storageBefore = output.withUnsafeBufferPointer { $0.baseAddress }
            try frame.withUnsafeBytes { try decoder.decompress($0, size: size, into: &output) }
            #expect(output == plain, "frame \(index) of \(size) bytes")
            if index == 4 {
                #expect(output.withUnsafeBufferPointer { $0.baseAddress } == storageBefore, "storage not reused")
            }
        }
        let frame = try Zstd.compress(Array(repeating: 1, count: 100))
        #expect(throws: Zstd.Failure.self) {
            try frame.withUnsafeBytes { try decoder.decompress($0, size: 99, into: &output) }
        }
        #expect(throws: Zstd.Failure.self) {
            try frame.withUnsafeBytes { try decoder.decompress($0, size: 101, into: &output) }
        }
        #expect(throws: Zstd.Failure.self) {
            try [UInt8](repeating: 0xAB, count: 64).withUnsafeBytes { try decoder.decompress($0, size: 64, into: &output) }
        }
        try frame.withUnsafeBytes { try decoder.decompress($0, size: 100, into: &output) }
        #expect(output == Array(repeating: 1, count: 100), "a failure left the context unusable")
    }
}
