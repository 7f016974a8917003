#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// What one timed run against one server gave.
struct RunResult {
    var requests: Double
    var seconds: Double
    var cpuMicroseconds: Double
    /// Get latencies measured during the run (milliseconds), when a probe ran.
    var getMilliseconds: [Double] = []

    var perSecond: Double { requests / seconds }
    var cpuPerRequest: Double { cpuMicroseconds / max(requests + Double(getMilliseconds.count), 1) }
}

/// Drives servers with `wrk` (HTTP/1.1) and `h2load` (gRPC over h2c) for a fixed time at a
/// fixed number of connections; every request body is prepared once, so the clients spend
/// their share of the two cores on sending, not on building requests.
struct Drivers {
    let wrk: String
    let h2load: String
    let connections: Int
    let grpcConnections: Int
    let grpcStreams: Int
    let directory: String

    /// A wrk script sending `method` with `body` on every request.
    func wrkScript(name: String, method: String, body: String?) throws -> String {
        let path = directory + "/\(name).lua"
        var text = "wrk.method = \"\(method)\"\n"
        if let body {
            text += "wrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.body = '\(body)'\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A file holding `message` as one gRPC frame: flag 0, 4-byte big-endian length, message.
    func grpcBody(name: String, message: [UInt8]) throws -> String {
        let path = directory + "/\(name).bin"
        let length = UInt32(message.count)
        let frame = [0, UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)] + message
        try Data(frame).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Runs wrk against `url` with `script` for `seconds` while measuring `server`'s CPU.
    func http(_ server: ServerProcess, url: String, script: String, seconds: Int, probe: GetProbe? = nil) throws -> RunResult {
        let cpuBefore = server.cpuMicroseconds()
        probe?.start()
        let output = try runTool(
            wrk, ["-t2", "-c\(connections)", "-d\(seconds)s", "-s", script, url]
        )
        let gets = probe?.stop() ?? []
        let cpu = server.cpuMicroseconds() - cpuBefore
        guard let total = Self.number(in: output, before: " requests in"),
            let elapsed = Self.number(in: output, after: " requests in ", unit: "s")
        else { throw BenchError("cannot read wrk's output: \(output)") }
        if let bad = Self.number(in: output, after: "Non-2xx or 3xx responses: ", unit: ""), bad > 0 {
            throw BenchError("\(Int(bad)) of \(Int(total)) requests to \(url) were not answered 2xx; wrk said: \(output)")
        }
        return RunResult(requests: total, seconds: elapsed, cpuMicroseconds: cpu, getMilliseconds: gets)
    }

    /// Runs h2load against the gRPC method `url` with the framed `body` for `seconds`.
    func grpc(_ server: ServerProcess, url: String, body: String, seconds: Int) throws -> RunResult {
        let cpuBefore = server.cpuMicroseconds()
        let output = try runTool(
            h2load,
            [
                "-c", "\(grpcConnections)", "-m", "\(grpcStreams)", "-t", "\(min(2, grpcConnections))", "-D", "\(seconds)", "-d", body,
                "-H", "content-type: application/grpc", "-H", "te: trailers", url,
            ]
        )
        let cpu = server.cpuMicroseconds() - cpuBefore
        guard let succeeded = Self.number(in: output, before: " succeeded"),
            let elapsed = Self.number(in: output, after: "finished in ", unit: "s")
        else { throw BenchError("cannot read h2load's output: \(output)") }
        if let failed = Self.number(in: output, before: " failed"), failed > 0 {
            throw BenchError("\(Int(failed)) requests to \(url) failed; h2load said: \(output)")
        }
        return RunResult(requests: succeeded, seconds: elapsed, cpuMicroseconds: cpu)
    }

    /// The number just before `marker` ("123 requests in").
    static func number(in text: String, before marker: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[..<range.lowerBound].reversed().prefix(while: { $0.isNumber || $0 == "." })
        return Double(String(digits.reversed()))
    }

    /// The number right after `marker`, ending where `unit` (or a non-digit) starts.
    static func number(in text: String, after marker: String, unit: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix(while: { $0.isNumber || $0 == "." })
        guard var value = Double(String(digits)) else { return nil }
        let rest = text[range.upperBound...].dropFirst(digits.count)
        if unit == "s", rest.hasPrefix("ms") { value /= 1000 }
        return value
    }
}

/// Times one Get every 5 ms on a connection of its own while a storm runs; the few Gets
/// hardly add to the server's load.
final class GetProbe: @unchecked Sendable {
    private let address: String
    private let path: String
    private let running = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private var latencies: [Double] = []
    private var failure: String?

    init(address: String, path: String) {
        self.address = address
        self.path = path
    }

    func start() {
        latencies = []
        running.store(true, ordering: .releasing)
        Thread.detachNewThread { [self] in
            do {
                let client = try MiniHTTP(address)
                while running.load(ordering: .acquiring) {
                    let start = DispatchTime.now().uptimeNanoseconds
                    let response = try client.request("GET", path)
                    let elapsed = DispatchTime.now().uptimeNanoseconds - start
                    guard response.status == 200 else {
                        failure = "Get \(path) answered \(response.status): \(response.body)"
                        break
                    }
                    latencies.append(Double(elapsed) / 1e6)
                    usleep(5_000)
                }
            } catch {
                failure = "\(error)"
            }
            done.signal()
        }
    }

    /// Stops the probe; returns the Get latencies in milliseconds.
    func stop() -> [Double] {
        running.store(false, ordering: .releasing)
        done.wait()
        if let failure { FileHandle.standardError.write(Data("front-bench: Get probe: \(failure)\n".utf8)) }
        return latencies
    }
}
