// Limits of the HTTP listener: body sizes, connections, idle time and extender admission.
import EdgeConfig

/// Body size limits, connection bounds and the idle timeout of the controller's HTTP server.
public struct HTTPLimits: Sendable, Equatable {
    /// Largest accepted report body: a report is a few KiB even with hundreds of peers.
    public var maxReportBytes: Int
    /// Largest accepted extender body (server.max_extender_body). Non-cache-capable extenders get
    /// full `v1.Node` objects, about 12.5 KB each with kubelet's 50 images: 5 000 nodes are 62.4 MB.
    public var maxExtenderBytes: Int
    /// A connection with no traffic for this long (also mid-request: a stalled client) is closed.
    public var idleTimeout: Duration
    /// Most open connections (server.max_connections).
    public var maxConnections: Int
    /// Most extender requests in progress at once (server.max_extender_requests).
    public var maxExtenderRequests: Int
    /// A body over this many bytes (or of unknown length) is "large": at most one is read and parsed
    /// at a time, on a thread of its own. kube-scheduler's `NodeNames` for 5 000 nodes are 175 KB,
    /// so only `Nodes` bodies (non-cache-capable extenders) ever count as large.
    public var largeExtenderBytes: Int

    /// Descriptors kept for the daemon's own work on top of the connections: the RPC listener and its
    /// clients (rpc.max_clients), the state and token files, the Prometheus client, the journal.
    public static let reservedDescriptors = 64

    public static let defaults = HTTPLimits(ControllerConfig.defaults.server)

    public init(maxReportBytes: Int, maxExtenderBytes: Int, idleTimeout: Duration, maxConnections: Int = 4096,
                maxExtenderRequests: Int = 16, largeExtenderBytes: Int = 1 << 20) {
        self.maxReportBytes = maxReportBytes
        self.maxExtenderBytes = maxExtenderBytes
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxExtenderRequests = maxExtenderRequests
        self.largeExtenderBytes = largeExtenderBytes
    }

    /// The limits a [server] section asks for.
    public init(_ server: ControllerConfig.Server) {
        self.init(maxReportBytes: 1 << 20, maxExtenderBytes: server.maxExtenderBody,
                  idleTimeout: .milliseconds(Int64((server.idleTimeoutSeconds * 1000).rounded())),
                  maxConnections: server.maxConnections, maxExtenderRequests: server.maxExtenderRequests)
    }
}
