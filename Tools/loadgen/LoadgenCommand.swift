import ArgumentParser

/// `loadgen`: drives a local tunnel-registry the way GOST nodes do, and measures it.
@main
struct LoadgenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadgen",
        abstract: "Load generator for tunnel-registry (loopback only): GOST-like traffic or a renew storm.",
        subcommands: [SimulateCommand.self, RenewStormCommand.self]
    )
}

/// Options shared by both modes: where the server is and how to talk to it.
struct TargetOptions: ParsableArguments {
    @Option(help: "Protocol of GOST's plugin to use: http or grpc.")
    var `protocol`: SDProtocol = .http

    @Option(help: "The server's HTTP listener (loopback only).")
    var http = "127.0.0.1:8080"

    @Option(name: .customLong("http-path"), help: "The plugin path on the HTTP listener.")
    var httpPath = "/sd"

    @Option(help: "The server's gRPC listener (loopback only).")
    var grpc = "127.0.0.1:8000"

    @Option(help: "Token the server expects (sent as Bearer or gRPC metadata token).")
    var token: String?

    @Option(help: "Seconds to run (1...600).")
    var duration: Double = 10

    @Option(help: "Seed for ids and choices, so runs are repeatable.")
    var seed: UInt64 = 1

    func validate() throws {
        guard (1...600).contains(duration) else { throw ValidationError("--duration must be within 1...600 seconds") }
        for (option, value) in [("--http", http), ("--grpc", grpc)] {
            guard let endpoint = Endpoint(value), endpoint.isLoopback else {
                throw ValidationError("\(option) \(value) must be a loopback HOST:PORT such as 127.0.0.1:8080")
            }
        }
    }

    /// The transport factory for the chosen protocol.
    func transportFactory() -> TransportFactory {
        TransportFactory(
            protocol: `protocol`, http: Endpoint(http)!, httpPath: httpPath, grpc: Endpoint(grpc)!, token: token
        )
    }
}

/// GOST's two plugin types.
enum SDProtocol: String, ExpressibleByArgument, Sendable {
    case http, grpc
}

/// A loopback `host:port`.
struct Endpoint: Sendable {
    var host: String
    var port: Int

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            return nil
        }
        host = String(text[..<colon])
        self.port = port
    }

    var isLoopback: Bool { host.hasPrefix("127.") || host == "localhost" }
}
