// The server's limits as they apply on this host: who may write (the admin group's gid, looked
// up once at start) and how many clients fit in the descriptor limit with a reserve left for
// the daemon's own work, so that a full socket never starves watchdog pings, BPF map reads,
// netlink or pushes of descriptors (EMFILE).
import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

enum RPCServerLimits {
    /// The write rule for `adminGroup`. A group that does not exist leaves writes root-only
    /// (with a warning): a typo never widens access. gid 0 is refused (see PeerCredentials).
    static func permission(adminGroup: String?, logger: Logger) throws -> RPCPermission {
        guard let adminGroup else { return RPCPermission() }
        guard let gid = RPCSocketFile.groupID(named: adminGroup) else {
            logger.warning("admin group does not exist; write methods stay root-only",
                           metadata: ["admin_group": "\(adminGroup)"])
            return RPCPermission()
        }
        guard gid != 0 else { throw RPCServerError.adminGroupIsRoot(adminGroup) }
        return RPCPermission(adminGroup: gid)
    }

    /// `configuration.maxClients`, lowered when RLIMIT_NOFILE cannot hold it plus
    /// `reservedDescriptors`. Raises the soft limit to the hard one first.
    static func clientLimit(_ configuration: RPCServerConfiguration, logger: Logger) -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return configuration.maxClients }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        let soft = limit.rlim_cur == rlim_t.max ? UInt64(Int.max) : UInt64(limit.rlim_cur)  // rlim_t.max: RLIM_INFINITY
        let available = Int(clamping: soft) - configuration.reservedDescriptors
        guard configuration.maxClients > available else { return configuration.maxClients }
        let lowered = max(1, available)
        logger.warning("rpc.max_clients lowered to fit the descriptor limit", metadata: [
            "max_clients": "\(configuration.maxClients)", "now": "\(lowered)", "nofile": "\(soft)",
            "reserved": "\(configuration.reservedDescriptors)",
            "hint": "raise LimitNOFILE= in the unit or lower rpc.max_clients",
        ])
        return lowered
    }

    /// RLIMIT_NOFILE as the type getrlimit takes (an enum on glibc).
    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)) }
}
