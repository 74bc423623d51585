// Who is on the other end of a connection, and whether they may change state.
// The decision is a pure function of the connect-time credentials so that it can be tested
// without spawning processes under other identities.

/// Whether a method only reads or also changes daemon/kernel state.
public enum RPCAccess: String, Sendable, Codable, CaseIterable {
    /// Open to anyone who can connect to the socket (its group).
    case read
    /// Needs uid 0, or the configured admin group, at connect time.
    case write
}

/// The process that connected, from SO_PEERCRED and SO_PEERGROUPS: what the kernel recorded
/// when it called connect(2), not what the process is now.
public struct RPCPeer: Sendable, Hashable {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups at connect time (empty when unknown).
    public var groups: [UInt32]
    /// True when write methods are allowed (see `RPCPermission.canWrite`).
    public var canWrite: Bool

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32] = [], canWrite: Bool) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
        self.canWrite = canWrite
    }

    /// A peer whose credentials could not be read: it may read, never write.
    public static let unidentified = RPCPeer(pid: 0, uid: UInt32.max, gid: UInt32.max, canWrite: false)
}

/// The write-permission rule: uid 0 as seen from the daemon's user namespace, or membership of
/// the admin group (primary or supplementary gid) at connect time.
///
/// CAP_NET_ADMIN no longer grants writes: the kernel binds no capabilities to a connection,
/// and reading them from /proc later is racy (exec of a setuid binary) and meaningless for a
/// process in its own user namespace. Operators who gave edgectl CAP_NET_ADMIN use the admin
/// group instead (`rpc.admin_group`).
public struct RPCPermission: Sendable, Equatable {
    /// gid of the admin group; nil = root only. Never 0 (see `PeerCredentials.groups`).
    public var adminGroup: UInt32?

    public init(adminGroup: UInt32? = nil) {
        precondition(adminGroup != 0, "the admin group cannot be gid 0")
        self.adminGroup = adminGroup
    }

    /// The decision, from connect-time credentials only.
    public func canWrite(uid: UInt32, gid: UInt32, groups: [UInt32]) -> Bool {
        if uid == 0 { return true }
        guard let admin = adminGroup else { return false }
        return gid == admin || groups.contains(admin)
    }
}
