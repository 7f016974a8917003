import Hummingbird
import NIOCore
import Registry

/// The request context of the HTTP front: Hummingbird's core storage plus the caller's
/// socket address, which fills host-less service addresses and is recorded as `peer`.
public struct PeerRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: NIOCore.SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// The caller as the registry records it.
    var peer: Peer {
        Peer(ip: remoteAddress?.ipAddress, port: remoteAddress?.port)
    }
}
