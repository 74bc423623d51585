// The host's default TCP congestion control (net.ipv4.tcp_congestion_control), which the shaper
// switches (to BBR, by config) while shaping is active and puts back on reset.
//
// Why: EDT gives each class a bounded delay (its horizon) and drops only past it. A loss-based
// sender (cubic, reno) keeps growing its window until that drop, so a shaped class runs at the
// horizon and loses packets. BBR paces itself at the bottleneck rate it measures and reacts to
// delay, so it settles below the horizon without drops. The setting is per network namespace
// (since 4.15) and applies to TCP sockets created after the change.
import Foundation

/// Why the host's congestion control could not be read or changed.
public enum HostCongestionControlError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The kernel has no such algorithm, not even as a module it could autoload.
    case unavailable(name: String, available: [String])
    /// A network namespace other than the host's may only pick an algorithm the host allows
    /// (net.ipv4.tcp_allowed_congestion_control, set in the initial namespace): EPERM.
    case restricted(name: String, allowed: [String])
    /// Reading or writing a /proc/sys file failed.
    case sysctl(operation: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .unavailable(name, available):
            return "TCP congestion control \"\(name)\" is not available in this kernel (available: "
                + "\(available.isEmpty ? "none listed" : available.joined(separator: " "))): it needs "
                + "CONFIG_TCP_CONG_\(name.uppercased()); load it with `modprobe tcp_\(name)`"
        case let .restricted(name, allowed):
            return "TCP congestion control \"\(name)\" is not allowed in this network namespace (allowed: "
                + "\(allowed.joined(separator: " "))): add it to net.ipv4.tcp_allowed_congestion_control in the host's namespace"
        case let .sysctl(operation, path, code):
            return "cannot \(operation) \(path): \(String(cString: strerror(code)))"
        }
    }
}

/// net.ipv4.tcp_congestion_control of the agent's network namespace (what its /proc/sys/net shows).
public struct HostCongestionControl: Sendable {
    /// The sysctl as a path (the agent's network namespace is the one /proc/sys/net shows).
    public static let sysctlName = "net.ipv4.tcp_congestion_control"
    public let directory: String

    public init(directory: String = "/proc/sys/net/ipv4") {
        self.directory = directory
    }

    var currentPath: String { directory + "/tcp_congestion_control" }
    var availablePath: String { directory + "/tcp_available_congestion_control" }
    var allowedPath: String { directory + "/tcp_allowed_congestion_control" }

    /// The algorithm new TCP sockets get.
    public func current() throws -> String {
        try read(currentPath)
    }

    /// Algorithms built in or loaded (a module the kernel can autoload is not listed yet).
    public func available() throws -> [String] {
        try read(availablePath).split(separator: " ").map(String.init)
    }

    /// Makes `name` the default. Writing the sysctl lets the kernel autoload tcp_<name>
    /// (with CAP_NET_ADMIN); if it still does not know it, the error names the config option
    /// and the module.
    public func set(_ name: String) throws {
        do {
            guard let handle = FileHandle(forWritingAtPath: currentPath) else {
                throw HostCongestionControlError.sysctl(operation: "open", path: currentPath, errno: errno)
            }
            defer { try? handle.close() }
            try handle.write(contentsOf: Data((name + "\n").utf8))
        } catch let error as HostCongestionControlError {
            throw error
        } catch {
            let code = StateFile.posixCode(error) ?? EIO
            if code == ENOENT { throw HostCongestionControlError.unavailable(name: name, available: (try? available()) ?? []) }
            if code == EPERM {
                let allowed = ((try? read(allowedPath)) ?? "").split(separator: " ").map(String.init)
                throw HostCongestionControlError.restricted(name: name, allowed: allowed)
            }
            throw HostCongestionControlError.sysctl(operation: "write \"\(name)\" to", path: currentPath, errno: code)
        }
        // The write is all or nothing; a mismatch would mean someone changed it at the same time.
        let now = try current()
        if now != name {
            throw HostCongestionControlError.sysctl(operation: "set \"\(name)\" (reads back \"\(now)\") in", path: currentPath, errno: EAGAIN)
        }
    }

    private func read(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw HostCongestionControlError.sysctl(operation: "read", path: path, errno: StateFile.posixCode(error) ?? EIO)
        }
    }
}
