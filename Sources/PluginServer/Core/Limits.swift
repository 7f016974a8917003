/// Size limits on what a client may send; larger input is refused before it reaches the log.
/// The limits on each field are the registry's (`RequestValidator.fieldBytesMax`), one set for
/// both fronts.
public struct RequestLimits: Sendable {
    /// The largest HTTP body accepted (413 above it) and gRPC request message.
    public var bodyBytesMax: Int = 64 << 10
    /// Open HTTP connections at most; further ones wait in the accept backlog.
    public var httpConnectionsMax: Int = 8192
    /// An HTTP connection idle this long is closed (GOST renews every 15 s, so live nodes stay).
    public var httpIdleTimeoutSeconds: Int64 = 120

    public init() {}
}
