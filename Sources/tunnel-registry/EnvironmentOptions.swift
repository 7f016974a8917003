import Foundation

/// Fills options missing from the command line from `TUNNEL_REGISTRY_<OPTION>` variables.
enum EnvironmentOptions {
    /// Options taking a value, by long name.
    static let valued = [
        "data-dir", "http", "http-path", "grpc", "token", "token-file", "tls-cert", "tls-key", "lease-ttl",
        "fsync", "segment-size", "log-level", "log-format", "get-order", "postgres", "instance", "retention",
    ]
    /// Flags, set by `1`, `true` or `yes`.
    static let flags = ["allow-unauthenticated"]
    /// Options where giving any one on the command line overrides the whole group from the environment.
    static let groups = [["token", "token-file"]]

    /// The variable name for an option: `data-dir` → `TUNNEL_REGISTRY_DATA_DIR`.
    static func variable(for option: String) -> String {
        "TUNNEL_REGISTRY_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    static func current() -> [String: String] {
        ProcessInfo.processInfo.environment
    }

    /// The command line with environment values prepended for options it does not give.
    static func merge(arguments: [String], environment: [String: String]) -> [String] {
        let given = Set(
            arguments.prefix(while: { $0 != "--" }).compactMap { argument -> String? in
                guard argument.hasPrefix("--") else { return nil }
                return String(argument.dropFirst(2).split(separator: "=", maxSplits: 1).first ?? "")
            }
        )
        func overridden(_ option: String) -> Bool {
            if given.contains(option) { return true }
            return groups.contains { $0.contains(option) && !given.isDisjoint(with: $0) }
        }
        var extra: [String] = []
        for option in valued where !overridden(option) {
            if let value = environment[variable(for: option)] {
                // One `--option=value` argument, so a value that starts with `-` (a token, a
                // path) is not read as another option.
                extra.append("--\(option)=\(value)")
            }
        }
        for flag in flags where !overridden(flag) {
            if let value = environment[variable(for: flag)], ["1", "true", "yes"].contains(value.lowercased()) {
                extra.append("--\(flag)")
            }
        }
        return extra + arguments
    }
}
