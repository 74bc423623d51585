// Limits of the HTTP listener that are protocol facts rather than site choices (not in the config file).

/// Body size limits and the idle timeout of the controller's HTTP server.
public struct HTTPLimits: Sendable, Equatable {
    /// Largest accepted report body: a report is a few KiB even with hundreds of peers.
    public var maxReportBytes: Int
    /// Largest accepted extender body. Non-cache-capable extenders get full `v1.Node` objects, a few
    /// KiB each, so 5000 nodes need tens of MiB.
    public var maxExtenderBytes: Int
    /// A connection with no traffic for this long (also mid-request: a stalled client) is closed.
    public var idleTimeout: Duration

    /// The idle timeout is longer than the 90 s Go's HTTP client (kube-scheduler's) keeps an idle connection:
    /// a server that closes first races the client's next POST on that connection, and Go does not
    /// retry a POST, so the extender call fails (with ignorable: true, the pod loses the extender).
    public static let defaults = HTTPLimits(maxReportBytes: 1 << 20, maxExtenderBytes: 64 << 20, idleTimeout: .seconds(120))

    public init(maxReportBytes: Int, maxExtenderBytes: Int, idleTimeout: Duration) {
        self.maxReportBytes = maxReportBytes
        self.maxExtenderBytes = maxExtenderBytes
        self.idleTimeout = idleTimeout
    }
}
