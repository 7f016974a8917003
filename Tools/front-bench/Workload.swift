import Foundation

/// The services the bench registers (10 per tunnel, as GOST's tunnels hold a few connectors),
/// the one it renews, and that renew as GOST sends it over HTTP (JSON with all five fields, the
/// last two empty) and over gRPC (`proto.RenewRequest`).
struct Workload {
    let count: Int
    let node = "3b7d4e21-bench-node-0000-000000000001"

    /// The tunnel of service `index`; the renewed service and the Get probe use tunnel 0.
    func tunnel(_ index: Int) -> String {
        let digits = String(index / 10)
        return "6f1c2a9e-bench-tunnel-0000-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    var tunnel: String { tunnel(0) }

    func id(_ index: Int) -> String {
        let digits = String(index)
        return "c0ffee00-bench-conn-0000-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    var renewJSON: String {
        #"{"id":"\#(id(0))","name":"\#(tunnel)","node":"\#(node)","network":"","address":""}"#
    }

    /// `RenewRequest{service: Service{id, name, node}}` in protobuf wire format (empty strings
    /// are not sent in proto3).
    var renewProtobuf: [UInt8] {
        var service: [UInt8] = []
        for (field, text) in [(1, id(0)), (2, tunnel), (3, node)] {
            service += [UInt8(field << 3 | 2), UInt8(text.utf8.count)] + Array(text.utf8)
        }
        return [0x0A, UInt8(service.count)] + service
    }

    /// Registers `count` services over one connection.
    func registerAll(at address: String) throws {
        let client = try MiniHTTP(address)
        for index in 0..<count {
            let body =
                #"{"id":"\#(id(index))","name":"\#(tunnel(index))","node":"\#(node)","network":"tcp","address":"10.0.0.5:80"}"#
            let response = try client.request("POST", "/sd", body: body)
            guard response.status == 200 else {
                throw BenchError("registering \(id(index)) answered \(response.status): \(response.body)")
            }
        }
    }

    /// Renews the registry logged as found so far, from its `/metrics`.
    func renewCount(at address: String) throws -> Double {
        let text = try MiniHTTP(address).request("GET", "/metrics").body
        func value(_ series: String) -> Double {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series + " ") }) else { return 0 }
            return Double(line.split(separator: " ").last ?? "") ?? 0
        }
        return value(#"tunnel_registry_events_total{kind="renew"}"#) - value("tunnel_registry_renew_not_found_total")
    }
}
