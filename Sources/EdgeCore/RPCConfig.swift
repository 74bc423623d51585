// The [rpc] section, shared by the agent's and the controller's config files: where the local
// JSON-RPC socket lives, who may connect, and how much one client may send. The values live here
// because EdgeRPC's server is configured from them and must not need the config reader (TOMLKit);
// reading and writing the section is EdgeConfig's RPCConfigSection.swift.

/// Local JSON-RPC socket settings.
public struct RPCConfig: Sendable, Equatable {
    /// Path of the Unix stream socket.
    public var socket: String
    /// Group that owns the socket (read methods are open to it); nil = root only.
    public var group: String?
    /// Largest accepted request line, in bytes.
    public var maxFrameBytes: Int
    /// Most clients connected at once.
    public var maxClients: Int
    /// Most requests in one JSON-RPC batch.
    public var maxBatch: Int = 64
    /// Most connections one non-root uid may hold at once.
    public var maxClientsPerUID: Int = 64
    /// A connection that sends nothing for this long (no request running) is closed.
    public var idleTimeoutSeconds: Double = 60
    /// Agent only: group whose members may call the write methods besides root; nil = root only.
    public var adminGroup: String?

    /// Settings with the config-file defaults for everything but the socket path.
    public init(socket: String, group: String? = "edgenode", maxFrameBytes: Int = 1_048_576, maxClients: Int = 1024) {
        self.socket = socket
        self.group = group
        self.maxFrameBytes = maxFrameBytes
        self.maxClients = maxClients
    }
}
