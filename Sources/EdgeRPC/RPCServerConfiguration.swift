// Knobs of the RPC server: where it listens, who may connect, and the limits that keep one
// misbehaving client from hurting the others.
import EdgeCore

/// Settings for `RPCServer`.
public struct RPCServerConfiguration: Sendable {
    /// Path of the Unix stream socket (at most 107 bytes).
    public var socketPath: String
    /// Group that owns the socket, which is then mode 0660; nil (or a group that does not
    /// exist) leaves it root-only, mode 0600.
    public var socketGroup: String?
    /// Most clients connected at once; the next one is sent a -32002 error line and closed.
    public var maxClients: Int
    /// Largest accepted frame (line without terminator), in bytes.
    public var maxFrameBytes: Int
    /// A connection that sends nothing for this long while no request of it is running is closed.
    public var idleTimeout: Duration
    /// Frames a client may queue on one connection before the server stops reading from it.
    public var maxQueuedFramesPerClient: Int
    /// How long `shutdown()` waits for running requests to finish before closing their connections.
    public var shutdownGracePeriod: Duration
    /// Group whose members (primary or supplementary gid at connect time) may call write
    /// methods besides root; nil = root only.
    public var adminGroup: String?
    /// Most requests in one JSON-RPC batch; a larger batch gets one -32600 error, unrun.
    public var maxBatchRequests: Int
    /// Most connections one non-root uid may hold at once; the next is sent -32002 and closed.
    public var maxClientsPerUID: Int
    /// Descriptors kept free for the daemon's own work (BPF maps, netlink, HTTP, pushes): the
    /// client limit is lowered when RLIMIT_NOFILE cannot hold `maxClients` plus these.
    public var reservedDescriptors: Int

    /// Slots of `maxClients` only root may take, so that a full server still serves root.
    public var rootReservedClients: Int { min(8, maxClients / 2) }

    public init(
        socketPath: String,
        socketGroup: String? = "edgenode",
        maxClients: Int = 1024,
        maxFrameBytes: Int = JSONRPCCodec.defaultMaxFrameBytes,
        idleTimeout: Duration = .seconds(60),
        maxQueuedFramesPerClient: Int = 16,
        shutdownGracePeriod: Duration = .seconds(5),
        adminGroup: String? = nil,
        maxBatchRequests: Int = 64,
        maxClientsPerUID: Int = 64,
        reservedDescriptors: Int = 256
    ) {
        precondition(maxClients > 0 && maxFrameBytes > 0 && maxQueuedFramesPerClient > 0
                     && maxBatchRequests > 0 && maxClientsPerUID > 0 && reservedDescriptors >= 0,
                     "RPC server limits must be positive")
        self.socketPath = socketPath
        self.socketGroup = socketGroup
        self.maxClients = maxClients
        self.maxFrameBytes = maxFrameBytes
        self.idleTimeout = idleTimeout
        self.maxQueuedFramesPerClient = maxQueuedFramesPerClient
        self.shutdownGracePeriod = shutdownGracePeriod
        self.adminGroup = adminGroup
        self.maxBatchRequests = maxBatchRequests
        self.maxClientsPerUID = maxClientsPerUID
        self.reservedDescriptors = reservedDescriptors
    }

    /// The settings of a config file's `[rpc]` section, other knobs at their defaults.
    public init(_ config: RPCConfig) {
        self.init(socketPath: config.socket, socketGroup: config.group,
                  maxClients: config.maxClients, maxFrameBytes: config.maxFrameBytes,
                  idleTimeout: .milliseconds(Int64((config.idleTimeoutSeconds * 1000).rounded())),
                  adminGroup: config.adminGroup, maxBatchRequests: config.maxBatch,
                  maxClientsPerUID: config.maxClientsPerUID)
    }
}
