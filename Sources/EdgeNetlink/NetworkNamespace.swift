import CEdgeShim
import Foundation
import Glibc

/// An error entering or leaving a network namespace.
public struct NamespaceError: Error, CustomStringConvertible, Equatable, Sendable {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation): \(String(cString: strerror(errno)))" }
}

/// A named network namespace (`/run/netns/NAME`, as `ip netns add` creates them).
///
/// `setns` changes only the calling thread's namespace, and Swift concurrency may move a task
/// between threads, so code runs inside through `runOnDedicatedThread`, which owns a fresh
/// thread for the call and blocks until it returns.
public final class NetworkNamespace: @unchecked Sendable {
    public let name: String
    private let fd: Int32

    /// Opens `/run/netns/<name>`.
    public init(named name: String) throws {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw NetlinkRequestError("invalid network namespace name '\(name)'")
        }
        let path = "/run/netns/\(name)"
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw NamespaceError(operation: "open \(path)", errno: Glibc.errno) }
        self.name = name
        self.fd = fd
    }

    deinit { close(fd) }

    /// Runs `body` with the *current thread* inside this namespace and moves the thread back
    /// to its original namespace afterwards. Only call this on a thread you own.
    public func withEnteredOnCurrentThread<T>(_ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else {
            throw NamespaceError(operation: "open /proc/thread-self/ns/net", errno: Glibc.errno)
        }
        defer { close(original) }
        guard edge_nl_enter_netns(fd) == 0 else {
            throw NamespaceError(operation: "setns into netns \(name)", errno: Glibc.errno)
        }
        defer {
            // Failing to return would leave a thread in the wrong namespace: that cannot be
            // reported to anyone safely, and it can only be a kernel/privilege bug.
            if edge_nl_enter_netns(original) != 0 {
                fatalError("cannot return from netns \(name): \(String(cString: strerror(Glibc.errno)))")
            }
        }
        return try body()
    }

    /// Runs `body` inside this namespace on a new thread and waits for it.
    public func runOnDedicatedThread<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            box.result = Result { try self.withEnteredOnCurrentThread(body) }
            done.signal()
        }
        thread.name = "netns-\(name)"
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}

extension NetworkNamespace {
    /// Runs `body` on a new thread inside a new, unnamed network namespace (only `lo`, down),
    /// and waits. Nothing outside can see it, no name can collide, and it disappears with
    /// everything in it (devices, qdiscs, filters) once `body`'s sockets are closed and the
    /// thread ends. For probes that must not touch the host's devices.
    public static func runInThrowawayNamespace<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.result = Result {
                guard edge_nl_unshare_netns() == 0 else {
                    throw NamespaceError(operation: "unshare(CLONE_NEWNET) for a throwaway namespace", errno: Glibc.errno)
                }
                return try body()
            }
            done.signal()
        }
        thread.name = "netns-throwaway"
        thread.start()
        done.wait()
        return try box.result!.get()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
