import Foundation
import NIOCore
import NIOPosix
import PostgresNIO

/// Framework errors turned into one line: the database, what was being done, PostgreSQL's own
/// message (or the system's reason), and what to do about it.
enum ErrorText {
    static func describe(_ error: any Error, url: DatabaseURL, doing: String) -> SharedLogError {
        if let error = error as? SharedLogError { return error }
        let prefix = "\(url.label), user \(url.user)"
        if let error = error as? PSQLError {
            return describe(error, prefix: prefix, url: url, doing: doing)
        }
        if let error = error as? PostgresTransactionError {
            let inner = error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError
            if let inner { return describe(inner, url: url, doing: doing) }
        }
        return SharedLogError(.unavailable, "\(prefix): \(doing) failed: \(systemReason(error)); check that PostgreSQL runs")
    }

    private static func describe(_ error: PSQLError, prefix: String, url: DatabaseURL, doing: String) -> SharedLogError {
        if error.code == .server, let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = info[.message] ?? "error \(state)"
            switch state {
            case "28P01", "28000":
                return SharedLogError(
                    .authentication, "\(prefix): \(message); check the user and password in the URL")
            case "3D000":
                return SharedLogError(
                    .unavailable, "\(prefix): \(message); create it (createdb \(url.database)) or fix the URL")
            case let state where state.hasPrefix("08") || state.hasPrefix("57") || state == "53300":
                return SharedLogError(.unavailable, "\(prefix): \(doing) failed: \(message); retrying")
            default:
                return SharedLogError(.database, "\(prefix): \(doing) failed: \(message) (SQLSTATE \(state))")
            }
        }
        switch error.code {
        case .authMechanismRequiresPassword:
            return SharedLogError(.authentication, "\(prefix): the server asks for a password; put it in the URL")
        case .sslUnsupported:
            return SharedLogError(
                .unavailable, "\(prefix): the server does not support TLS; use sslmode=disable or prefer, or enable ssl")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return SharedLogError(.unavailable, "\(prefix): \(doing) failed: the connection was closed; retrying")
        default:
            let reason = error.underlying.map(systemReason) ?? "\(error.code)"
            return SharedLogError(.unavailable, "\(prefix): \(doing) failed: \(reason); check that PostgreSQL runs")
        }
    }

    /// The system's reason for a connection failure, without NIO's wrapping.
    static func systemReason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return systemReason(first.error) }
            if error.dnsAAAAError != nil || error.dnsAError != nil { return "cannot resolve host \(error.host)" }
            return "cannot connect to \(error.host):\(error.port)"
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout(let amount): return "no answer within \(amount.nanoseconds / 1_000_000) ms"
            case .ioOnClosedChannel, .alreadyClosed, .eof: return "the connection was closed"
            default: return "\(error)"
            }
        }
        if let error = error as? PSQLError, let underlying = error.underlying { return systemReason(underlying) }
        return "\(error)"
    }
}
