import Foundation
import EventLog
import FileStore
import Logging
import PluginServer
import Registry
import SharedLog

/// The command line turned into validated settings; each error names the option and value.
struct ServerSettings: Sendable {
    var server = PluginServerConfiguration()
    var registry: RegistryConfiguration
    var localLog = LocalLogOptions()
    /// The shared log's URL in cluster mode (`--postgres`); nil for the local log.
    var postgresURL: String?

    /// Where the history lives: the shared log with `--postgres`, else the local log.
    var storage: RegistryStorage {
        postgresURL.map { .shared(url: $0) } ?? .local(localLog)
    }
    var logLevel: Logger.Level
    var logFormat: LogFormat

    init(_ command: TunnelRegistryCommand) throws(ConfigurationError) {
        server.http = try ListenAddress.parse(command.http, option: "--http")
        server.grpc = try ListenAddress.parse(command.grpc, option: "--grpc")
        server.httpPath = command.httpPath
        server.token = try Self.token(command)
        switch (command.tlsCert, command.tlsKey) {
        case (let cert?, let key?):
            server.tls = TLSFiles(certificatePath: cert, privateKeyPath: key)
        case (nil, nil):
            server.tls = nil
        default:
            throw ConfigurationError("--tls-cert and --tls-key go together; pass both or neither")
        }
        try server.validate(allowUnauthenticated: command.allowUnauthenticated)

        registry = RegistryConfiguration(dataDirectory: command.dataDir)
        let ttl = try DurationOption.microseconds(command.leaseTTL, option: "--lease-ttl")
        guard ttl >= 100_000 else {
            throw ConfigurationError("--lease-ttl \(command.leaseTTL) is shorter than 100ms; GOST renews every 15s, use e.g. 45s")
        }
        registry.leaseTTLMicroseconds = ttl
        localLog.fsync = try Self.fsync(command.fsync)
        guard command.segmentSize >= 4096 else {
            throw ConfigurationError("--segment-size \(command.segmentSize) is below 4096 bytes; use e.g. 67108864")
        }
        localLog.segmentBytesMax = command.segmentSize
        if let text = command.retention {
            localLog.retentionMicroseconds = try DurationOption.microseconds(text, option: "--retention")
        }
        if let url = command.postgres {
            guard !url.isEmpty else {
                throw ConfigurationError("--postgres is empty; pass postgres://user:pass@host:5432/db or leave it out")
            }
            do {
                try SharedLogConfiguration.validate(url: url)
            } catch {
                throw ConfigurationError("--postgres: \(error.description)")
            }
            guard command.retention == nil else {
                throw ConfigurationError("--retention applies to the local log only; leave it out with --postgres")
            }
            postgresURL = url
            registry.instance = command.instance ?? Self.defaultInstanceName(http: server.http)
        } else {
            registry.instance = command.instance ?? ""
        }
        guard let order = GetOrder(rawValue: command.getOrder) else {
            throw ConfigurationError("--get-order \(command.getOrder) is unknown; use freshest or shuffle")
        }
        registry.getOrder = order
        guard let level = Logger.Level(rawValue: command.logLevel) else {
            let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError("--log-level \(command.logLevel) is unknown; use one of \(levels)")
        }
        logLevel = level
        guard let format = LogFormat(rawValue: command.logFormat) else {
            throw ConfigurationError("--log-format \(command.logFormat) is unknown; use text or json")
        }
        logFormat = format
    }

    private static func token(_ command: TunnelRegistryCommand) throws(ConfigurationError) -> String? {
        switch (command.token, command.tokenFile) {
        case (let token?, nil):
            return token
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("--token-file \(path) cannot be read; check the path and its permissions")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else {
                throw ConfigurationError("--token-file \(path) is empty; write the token into it")
            }
            return token
        case (nil, nil):
            return nil
        case (_?, _?):
            throw ConfigurationError("--token and --token-file both given; pass only one")
        }
    }

    /// The host name and HTTP port (`gw-1:8080`), naming a cluster instance by default.
    static func defaultInstanceName(http: ListenAddress?) -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "registry"
        guard let http else { return host }
        return "\(host):\(http.port)"
    }

    static func fsync(_ text: String) throws(ConfigurationError) -> FsyncPolicy {
        switch text {
        case "always": return .always
        case "never": return .never
        default:
            guard text.hasPrefix("interval:") else {
                throw ConfigurationError("--fsync \(text) is unknown; use always, never or interval:DURATION (e.g. interval:10ms)")
            }
            let micros = try DurationOption.microseconds(String(text.dropFirst("interval:".count)), option: "--fsync")
            guard micros >= 1000 else {
                throw ConfigurationError("--fsync \(text): the interval must be at least 1ms")
            }
            return .interval(milliseconds: Int(micros / 1000))
        }
    }
}

/// A duration option's value (`DurationText`), or a usage error naming the option.
enum DurationOption {
    static func microseconds(_ text: String, option: String) throws(ConfigurationError) -> Int64 {
        guard let value = DurationText.parse(text) else {
            throw ConfigurationError(
                "\(option) \(text) is not a duration; write e.g. 500ms, 45s, 2m, 1h, 30d or 1h30m"
            )
        }
        return value
    }
}
