/// Size limits on what a client may send; larger input is refused before it reaches the log.
/// The limits on each field are the registry's (`RequestValidator.fieldBytesMax`), one set for
/// both fronts.
public struct RequestLimits: Sendable {
    /// The largest HTTP body accepted (413 above it).
    public var bodyBytesMax: Int = 64 << 10
    /// The largest gRPC request message grpc-swift decodes; it resets the stream of a larger one.
    /// Larger than `bodyBytesMax` so that a message too large only by its fields is decoded and
    /// then refused by field validation with INVALID_ARGUMENT naming the field.
    public var grpcMessageBytesMax: Int = 1 << 20
    /// Open HTTP connections at most; further ones wait in the accept backlog.
    public var httpConnectionsMax: Int = 8192
    /// An HTTP connection idle this long is closed (GOST renews every 15 s, so live nodes stay).
    public var httpIdleTimeoutSeconds: Int64 = 120

    public init() {}
}
