/// The version of TunnelRegistry's executables, printed by `tunnel-registry --version` and
/// `tunnel-replay --version`. The byte format has its own version numbers (docs/FORMAT.md).
public enum TunnelRegistryVersion {
    public static let text = "0.1.0"
}
