// The [rpc] section, shared by the agent's and the controller's config files: where the local
// JSON-RPC socket lives, who may connect, and how much one client may send.

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

    /// Settings with the config-file defaults for everything but the socket path.
    public init(socket: String, group: String? = "edgenode", maxFrameBytes: Int = 1_048_576, maxClients: Int = 1024) {
        self.socket = socket
        self.group = group
        self.maxFrameBytes = maxFrameBytes
        self.maxClients = maxClients
    }

    static let keys = ["socket", "group", "max_frame_bytes", "max_clients"]
    /// sun_path holds 108 bytes including the terminating NUL.
    static let maxSocketPathBytes = 107
    static let frameBytesRange = 1024...(64 << 20)
    static let clientsRange = 1...65536

    /// Reads [rpc] with `defaults` for missing keys.
    static func read(_ s: ConfigSection, defaults: RPCConfig) throws -> RPCConfig {
        let group = try s.optionalString("group", default: defaults.group ?? "")
        if let group {
            // Debian's adduser rules, loosely: no separators or whitespace that /etc/group cannot hold.
            guard group.utf8.count <= 32, !group.hasPrefix("-"),
                  group.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) })
            else {
                throw s.error("group", "expected a group name (letters, digits, \"_\", \"-\", \".\"; at most 32), got \"\(group)\"")
            }
        }
        return RPCConfig(
            socket: try s.absolutePath("socket", default: defaults.socket, allowEmpty: false,
                                       maxBytes: maxSocketPathBytes)!,
            group: group,
            maxFrameBytes: try s.int("max_frame_bytes", default: defaults.maxFrameBytes, range: frameBytesRange),
            maxClients: try s.int("max_clients", default: defaults.maxClients, range: clientsRange))
    }

    func write(to t: inout TOMLText) {
        t.section("rpc")
        t.string("socket", socket)
        t.string("group", group ?? "")
        t.int("max_frame_bytes", maxFrameBytes)
        t.int("max_clients", maxClients)
    }
}
