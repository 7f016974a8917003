import Foundation
import NIOSSL
import PostgresNIO

/// A parsed `postgres://` URL: where the database is and how to authenticate and encrypt.
struct DatabaseURL: Sendable, Equatable {
    /// The `sslmode` values understood, with libpq's meaning: `prefer` and `require` encrypt
    /// without checking the certificate, `verify-ca` checks the chain, `verify-full` also the host name.
    enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tlsMode: TLSMode
    var rootCertificatePath: String?

    /// "host:port/database": how every error names the database.
    var label: String { "PostgreSQL at \(host):\(port), database \(database)" }

    /// Parses `text`; errors name the problem and what a valid URL looks like.
    init(_ text: String) throws(SharedLogError) {
        let example = "expected postgres://user:password@host:5432/database?sslmode=disable|prefer|require"
        func invalid(_ reason: String) -> SharedLogError {
            SharedLogError(.invalidURL, "invalid PostgreSQL URL \(Self.redacted(text)): \(reason); \(example)")
        }
        guard let components = URLComponents(string: text) else { throw invalid("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("the scheme must be postgres://")
        }
        guard let host = components.host, !host.isEmpty else { throw invalid("no host") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let user = components.user ?? "postgres"
        guard !path.contains("/") else { throw invalid("the path must be one database name") }
        self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let port = components.port {
            guard (1...65_535).contains(port) else { throw invalid("port \(port) is out of range") }
            self.port = port
        } else {
            self.port = 5432
        }
        self.user = user
        self.password = components.password
        self.database = path.isEmpty ? user : path
        var tlsMode = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw invalid("sslmode=\(item.value ?? "") is not one of "
                        + TLSMode.allCases.map(\.rawValue).joined(separator: ", "))
                }
                tlsMode = mode
            case "sslrootcert":
                rootCertificatePath = item.value
            case "application_name", "connect_timeout":
                continue
            default:
                throw invalid("unknown option \(item.name)")
            }
        }
        self.tlsMode = tlsMode
    }

    /// `text` with the password replaced by `***`, for messages and logs.
    static func redacted(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    /// postgres-nio's TLS setting for the mode.
    func tls() throws(SharedLogError) -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable: return .disable
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificatePath { configuration.trustRoots = .file(rootCertificatePath) }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw SharedLogError(.invalidURL, "\(label): cannot set up TLS (\(error)); check sslrootcert")
        }
        return tlsMode == .prefer ? .prefer(context) : .require(context)
    }
}
