import ArgumentParser
import EventLog
import PluginServer
import Registry

/// `tunnel-registry`: the GOST service-discovery plugin server (README.md, "Running the server"). Every option
/// also reads `TUNNEL_REGISTRY_<OPTION>` from the environment; a flag on the command line wins.
@main
struct TunnelRegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunnel-registry",
        abstract: "Service-discovery registry for GOST tunnels: GOST's sd plugin over HTTP and gRPC.",
        discussion: """
            Every Register, Renew and Deregister is appended to an event log in --data-dir before it \
            is answered; Get is served from memory. Each option can also be set with an environment \
            variable TUNNEL_REGISTRY_<OPTION> (upper case, dashes as underscores), e.g. \
            TUNNEL_REGISTRY_DATA_DIR=/var/lib/tunnel-registry; a flag on the command line wins. \
            SIGTERM or SIGINT stops accepting, finishes in-flight requests, writes a snapshot and exits 0.
            """,
        version: TunnelRegistryVersion.text
    )

    @Option(name: .customLong("data-dir"), help: "Directory of the event log (DIR/log) and snapshots (DIR/snapshots).")
    var dataDir = "./data"

    @Option(help: "HTTP listener HOST:PORT for GOST's http plugin, /healthz, /readyz, /metrics; 'off' disables it.")
    var http = "127.0.0.1:8080"

    @Option(name: .customLong("http-path"), help: "Path of GOST's http plugin URL (addr: http://HOST:PORT/sd).")
    var httpPath = "/sd"

    @Option(help: "gRPC listener HOST:PORT for GOST's grpc plugin (the default plugin type); 'off' disables it.")
    var grpc = "127.0.0.1:8000"

    @Option(help: "Shared secret GOST sends (plugin 'token:'): HTTP 'Authorization: Bearer T', gRPC metadata 'token'.")
    var token: String?

    @Option(name: .customLong("token-file"), help: "Read the token from this file (surrounding whitespace is trimmed).")
    var tokenFile: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain: serve both listeners over TLS (needs --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(
        name: .customLong("lease-ttl"),
        help: "A service expires this long after its last Register/Renew (GOST renews every 15s): 500ms, 45s, 2m, 1h, 1m30s."
    )
    var leaseTTL = "45s"

    @Option(help: "When a write is made durable: always (fsync before answering), never, or interval:DURATION.")
    var fsync = "always"

    @Option(name: .customLong("segment-size"), help: "Start a new log segment after this many bytes.")
    var segmentSize = 64 << 20

    @Option(help: "Remove log history older than this (e.g. 30d, 12h) once a snapshot covers it; default: keep all.")
    var retention: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(
        name: .customLong("log-format"),
        help: "Log lines on stderr as text, or json (one object per line, the log's metadata as fields)."
    )
    var logFormat = "text"

    @Option(
        name: .customLong("get-order"),
        help: "Order of Get results: freshest (recently renewed first, shuffled within tiers) or shuffle."
    )
    var getOrder = "freshest"

    @Option(
        help: """
            Cluster mode: keep the history in this PostgreSQL database, shared by several instances \
            (postgres://user:pass@host:5432/db?sslmode=require). Without it, the local log in --data-dir.
            """
    )
    var postgres: String?

    @Option(help: "Cluster mode: this instance's name, recorded in every event it logs (default: host name:HTTP port).")
    var instance: String?

    @Flag(
        name: .customLong("allow-unauthenticated"),
        help: "Allow a non-loopback listener without a token (only on a network you trust)."
    )
    var allowUnauthenticated = false

    static func main() async {
        let arguments = EnvironmentOptions.merge(
            arguments: Array(CommandLine.arguments.dropFirst()), environment: EnvironmentOptions.current()
        )
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }

    func run() async throws {
        let settings: ServerSettings
        do {
            settings = try ServerSettings(self)
        } catch {
            throw ValidationError(error.description)
        }
        try await ServerLauncher(settings: settings).run()
    }
}
