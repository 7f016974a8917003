#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A blocking HTTP/1.1 keep-alive client over one socket, for registering services and for the
/// Get probe: light enough that it hardly competes with the server for the two cores.
final class MiniHTTP {
    private let socket: Int32
    private var buffer: [UInt8] = []

    /// Connects to `address` (`127.0.0.1:PORT`).
    init(_ address: String) throws {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw BenchError("cannot parse address \(address); expected 127.0.0.1:PORT")
        }
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var peer = sockaddr_in()
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_port = port.bigEndian
        inet_pton(AF_INET, String(address[..<colon]), &peer.sin_addr)
        let connected = withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw BenchError("cannot connect to \(address): errno \(errno)")
        }
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(socket) }

    /// Sends one request and reads the whole response; returns its status and body.
    func request(_ method: String, _ path: String, body: String = "") throws -> (status: Int, body: String) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: bench\r\n"
        if !body.isEmpty { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
            guard written > 0 else { throw BenchError("send failed: errno \(errno)") }
            sent += written
        }
        let headEnd = try readUntilHeadEnd()
        let headText = String(decoding: buffer[..<headEnd], as: UTF8.self)
        let lines = headText.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count > 1,
            let status = Int(statusLine.split(separator: " ")[1])
        else { throw BenchError("bad response head: \(headText)") }
        let length =
            lines.dropFirst().compactMap { line -> Int? in
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
        let total = headEnd + 4 + length
        while buffer.count < total { try fill() }
        let responseBody = String(decoding: buffer[(headEnd + 4)..<total], as: UTF8.self)
        buffer.removeFirst(total)
        return (status, responseBody)
    }

    private func readUntilHeadEnd() throws -> Int {
        let marker: [UInt8] = [13, 10, 13, 10]
        var searched = 0
        while true {
            if buffer.count >= 4 {
                for index in max(0, searched - 3)...(buffer.count - 4) where buffer[index..<(index + 4)].elementsEqual(marker) {
                    return index
                }
                searched = buffer.count
            }
            try fill()
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw BenchError("the server closed the connection (recv returned \(count), errno \(errno))") }
        buffer.append(contentsOf: chunk[..<count])
    }
}
