// Who is on the other end of a connection, and whether they may change state.
// The decision is a pure function of the credentials so that it can be tested without
// spawning processes under other identities.

/// Whether a method only reads or also changes daemon/kernel state.
public enum RPCAccess: String, Sendable, Codable, CaseIterable {
    /// Open to anyone who can connect to the socket (its group).
    case read
    /// Needs root or CAP_NET_ADMIN in the caller's effective set.
    case write
}

/// The process that connected, from SO_PEERCRED at accept time.
public struct RPCPeer: Sendable, Hashable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// True when write methods are allowed (see `RPCPermission.canWrite`).
    public var canWrite: Bool

    public init(pid: Int32, uid: UInt32, gid: UInt32, canWrite: Bool) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.canWrite = canWrite
    }

    /// A peer whose credentials could not be read: it may read, never write.
    public static let unidentified = RPCPeer(pid: 0, uid: UInt32.max, gid: UInt32.max, canWrite: false)
}

/// The write-permission rule: uid 0, or CAP_NET_ADMIN in the effective capability set.
public enum RPCPermission {
    /// Bit number of CAP_NET_ADMIN (linux/capability.h).
    public static let capNetAdminBit = 12

    /// The decision. `effectiveCapabilities` is the peer's CapEff mask, nil when unknown.
    public static func canWrite(uid: UInt32, effectiveCapabilities: UInt64?) -> Bool {
        if uid == 0 { return true }
        guard let caps = effectiveCapabilities else { return false }
        return caps & (UInt64(1) << UInt64(capNetAdminBit)) != 0
    }

    /// The `CapEff:` mask from the text of `/proc/<pid>/status`, nil when the line is
    /// missing or not hexadecimal.
    public static func effectiveCapabilities(procStatus text: String) -> UInt64? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard line.hasPrefix("CapEff:") else { continue }
            let hex = line.dropFirst("CapEff:".count).filter { $0 != " " && $0 != "\t" }
            guard !hex.isEmpty, hex.count <= 16 else { return nil }
            return UInt64(hex, radix: 16)
        }
        return nil
    }
}
