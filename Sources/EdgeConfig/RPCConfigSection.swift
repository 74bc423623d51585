// Reading and writing the [rpc] section (the values are EdgeCore's RPCConfig): key names, bounds
// and defaults, the same for the agent's and the controller's file but for the agent's admin group.
import EdgeCore

extension RPCConfig {
    static let keys = ["socket", "group", "max_frame_bytes", "max_clients", "max_batch", "max_clients_per_uid",
                       "idle_timeout"]
    /// The agent's [rpc] has write methods, and so an admin group.
    static let agentKeys = keys + ["admin_group"]
    static let batchRange = 1...10_000
    static let idleRange = 1.0...86_400.0
    /// sun_path holds 108 bytes including the terminating NUL.
    static let maxSocketPathBytes = 107
    static let frameBytesRange = 1024...(64 << 20)
    static let clientsRange = 1...65536

    /// Reads [rpc] with `defaults` for missing keys.
    static func read(_ s: ConfigSection, defaults: RPCConfig, hasAdminGroup: Bool = false) throws -> RPCConfig {
        let group = try groupName(s, "group", default: defaults.group)
        var c = RPCConfig(
            socket: try s.absolutePath("socket", default: defaults.socket, allowEmpty: false,
                                       maxBytes: maxSocketPathBytes)!,
            group: group,
            maxFrameBytes: try s.int("max_frame_bytes", default: defaults.maxFrameBytes, range: frameBytesRange),
            maxClients: try s.int("max_clients", default: defaults.maxClients, range: clientsRange))
        c.maxBatch = try s.int("max_batch", default: defaults.maxBatch, range: batchRange)
        c.maxClientsPerUID = try s.int("max_clients_per_uid", default: defaults.maxClientsPerUID, range: clientsRange)
        c.idleTimeoutSeconds = try s.duration("idle_timeout", default: DurationParser.format(seconds: defaults.idleTimeoutSeconds),
                                              range: idleRange)
        if hasAdminGroup { c.adminGroup = try groupName(s, "admin_group", default: defaults.adminGroup) }
        return c
    }

    private static func groupName(_ s: ConfigSection, _ key: String, default def: String?) throws -> String? {
        let group = try s.optionalString(key, default: def ?? "")
        if let group {
            // Debian's adduser rules, loosely: no separators or whitespace that /etc/group cannot hold.
            guard group.utf8.count <= 32, !group.hasPrefix("-"),
                  group.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) })
            else {
                throw s.error(key, "expected a group name (letters, digits, \"_\", \"-\", \".\"; at most 32), got \"\(group)\"")
            }
        }
        return group
    }

    func write(to t: inout TOMLText) {
        t.section("rpc")
        t.string("socket", socket)
        t.string("group", group ?? "")
        t.int("max_frame_bytes", maxFrameBytes)
        t.int("max_clients", maxClients)
        t.int("max_batch", maxBatch)
        t.int("max_clients_per_uid", maxClientsPerUID)
        t.string("idle_timeout", DurationParser.format(seconds: idleTimeoutSeconds))
    }

    /// The agent's section: the shared keys and its admin group.
    func writeAgent(to t: inout TOMLText) {
        write(to: &t)
        t.string("admin_group", adminGroup ?? "")
    }
}
