// Named network namespaces (`ip netns`): the one place the lab makes and deletes them. The
// tests' fixtures, the veth lab, edge-soak's beds and edge-experiment's test bed all come here.
// (EdgeNetlink's NetworkNamespace enters a namespace for the agent's own netlink sockets; that
// is product code and makes none.)
import Foundation

public enum Netns {
    /// Creates `name` with its loopback up (nothing in the lab wants a namespace without one).
    public static func add(_ name: String) throws {
        try sh(["ip", "netns", "add", name])
        try sh(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    /// Deletes `name`; a namespace already gone is not an error (teardowns run more than once).
    public static func delete(_ name: String) {
        _ = try? sh(["ip", "netns", "delete", name], check: false)
    }

    /// `argv` run inside `name`. `ip netns exec` execs it in place, so a started process's pid is
    /// the command's own.
    public static func exec(_ name: String, _ argv: [String]) -> [String] {
        ["ip", "netns", "exec", name] + argv
    }
}

/// A network namespace that lives as long as this object (or until `delete()`).
public final class ScratchNetns: @unchecked Sendable {
    public let name: String
    private let lock = NSLock()
    private var deleted = false

    /// A namespace named `prefix-<random>` (concurrent runs never collide).
    public convenience init(prefix: String = "edgetest") throws {
        try self.init(named: "\(prefix)-\(UInt32.random(in: 0 ... UInt32.max))")
    }

    /// A namespace of exactly `name`.
    public init(named name: String) throws {
        self.name = name
        try Netns.add(name)
    }

    /// Runs a command inside the namespace.
    @discardableResult
    public func run(_ args: [String], check: Bool = true) throws -> ShellResult {
        try sh(Netns.exec(name, args), check: check)
    }

    /// Deletes the namespace now; safe to call twice.
    public func delete() {
        let first = lock.withLock { () -> Bool in defer { deleted = true }; return !deleted }
        if first { Netns.delete(name) }
    }

    deinit { delete() }
}
