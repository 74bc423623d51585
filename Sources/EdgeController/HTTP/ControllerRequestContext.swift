// Per-request context: Hummingbird's basics plus the peer address, for logging rejected reports.
import Hummingbird
import NIOCore

/// The request context of the controller's HTTP server.
public struct ControllerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// "ip:port" of the client, when known.
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress.map { addr in
            if let ip = addr.ipAddress, let port = addr.port { return "\(ip):\(port)" }
            return "\(addr)"
        }
    }
}
