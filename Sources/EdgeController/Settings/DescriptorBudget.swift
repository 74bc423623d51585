// The descriptors the controller needs, checked against RLIMIT_NOFILE before anything listens.
//
// systemd starts services with a soft limit of 1 024 (and a hard limit of 524 288): 1 100 idle TCP
// connections used to take every descriptor, and /healthz, ingest and the RPC socket failed with
// EMFILE (issue 13, finding 5). The soft limit is raised towards the hard one as far as the
// configuration needs; if even the hard limit is too low the controller refuses to start, naming
// the keys.
import EdgeConfig
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum DescriptorBudget {
    /// server.max_connections + rpc.max_clients + `HTTPLimits.reservedDescriptors`.
    public static func needed(_ config: ControllerConfig) -> Int {
        config.server.maxConnections + config.rpc.maxClients + HTTPLimits.reservedDescriptors
    }

    /// Raises the soft RLIMIT_NOFILE to what `config` needs (never lowers it); returns the soft
    /// limit in force. Throws when the hard limit is below the need.
    @discardableResult
    public static func ensure(_ config: ControllerConfig) throws -> Int {
        let need = needed(config)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var lim = rlimit()
        guard getrlimit(resource, &lim) == 0 else {
            throw ControllerStartupError(reason: "getrlimit(RLIMIT_NOFILE): \(String(cString: strerror(errno)))")
        }
        if lim.rlim_cur >= rlim_t(need) { return Int(clamping: lim.rlim_cur) }
        guard lim.rlim_max >= rlim_t(need) else { // RLIM_INFINITY is the largest value
            throw ControllerStartupError(reason: "server.max_connections (\(config.server.maxConnections)) + rpc.max_clients "
                + "(\(config.rpc.maxClients)) + \(HTTPLimits.reservedDescriptors) reserved need \(need) file descriptors, "
                + "but the hard RLIMIT_NOFILE is \(lim.rlim_max): lower server.max_connections or raise LimitNOFILE=")
        }
        lim.rlim_cur = rlim_t(need)
        guard setrlimit(resource, &lim) == 0 else {
            throw ControllerStartupError(reason: "setrlimit(RLIMIT_NOFILE, \(need)): \(String(cString: strerror(errno)))")
        }
        return need
    }
}
