#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered writes to a file descriptor (stdout by default) without Foundation.
///
/// One buffer, flushed when it passes `flushBytes`, so `events` on a large log makes few
/// write(2) calls.
final class OutputSink {
    static let flushBytes = 256 << 10
    private let fileDescriptor: Int32
    var buffer: [UInt8] = []

    init(fileDescriptor: Int32 = 1) {
        self.fileDescriptor = fileDescriptor
        buffer.reserveCapacity(Self.flushBytes + 4096)
    }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        flushIfFull()
    }

    /// Appends raw bytes (already encoded rows).
    func write(bytes: [UInt8]) {
        guard bytes.count >= Self.flushBytes / 2, fileDescriptor >= 0 else {
            buffer.append(contentsOf: bytes)
            flushIfFull()
            return
        }
        flush()
        writeAll(bytes)
    }

    /// A sink that keeps everything in `buffer` (tests read it back with `captured`).
    static func capturing() -> OutputSink {
        OutputSink(fileDescriptor: -1)
    }

    var captured: String { String(decoding: buffer, as: UTF8.self) }

    func flushIfFull() {
        if buffer.count >= Self.flushBytes { flush() }
    }

    /// Writes everything buffered. A closed pipe (`| head`) ends the process quietly.
    func flush() {
        guard fileDescriptor >= 0 else { return }
        writeAll(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                systemWrite(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                exit(errno == EPIPE ? 0 : 2)
            }
            offset += written
        }
    }
}

/// Messages for the operator on stderr: warnings always, progress only on a terminal.
enum Diagnostics {
    static func warn(_ message: String) {
        let sink = OutputSink(fileDescriptor: 2)
        sink.write("tunnel-replay: \(message)\n")
        sink.flush()
    }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}

private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}
