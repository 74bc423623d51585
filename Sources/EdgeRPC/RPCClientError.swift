// What can go wrong when the CLI talks to a daemon, worded for the person at the terminal.
import EdgeCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A failed `RPCClient` call. `description` is a complete sentence fit for the CLI.
public enum RPCClientError: Error, Sendable, Equatable {
    /// No socket file: the daemon is not running (or never ran).
    case notRunning(daemon: String, path: String)
    /// A socket file nobody listens on: the daemon died without cleaning up.
    case staleSocket(daemon: String, path: String)
    /// The socket refuses us: not root and not in its group.
    case permissionDenied(path: String, group: String)
    /// No (complete) answer before the timeout.
    case timedOut(daemon: String, method: String, timeout: Duration)
    /// The daemon answered with a JSON-RPC error.
    case server(daemon: String, method: String, error: JSONRPCErrorObject)
    /// The daemon closed the connection before answering.
    case connectionClosed(daemon: String, method: String)
    /// The daemon's answer is not a valid JSON-RPC response (or not the expected type).
    case invalidResponse(daemon: String, method: String, reason: String)
    /// The params could not be encoded.
    case invalidParams(method: String, reason: String)
    /// The socket path cannot be used (too long).
    case invalidPath(path: String, reason: String)
    /// Any other socket failure.
    case socket(operation: String, path: String, errno: Int32)

    /// The JSON-RPC error code when the daemon answered with an error.
    public var serverErrorCode: JSONRPCErrorCode? {
        if case .server(_, _, let error) = self { return error.code }
        return nil
    }
}

extension RPCClientError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case .notRunning(let daemon, let path):
            return "\(daemon) is not running: no socket at \(path)"
        case .staleSocket(let daemon, let path):
            return "\(daemon) is not running (stale socket at \(path))"
        case .permissionDenied(let path, let group):
            return "permission denied on \(path): run as root or join group '\(group)'"
        case .timedOut(let daemon, let method, let timeout):
            return "\(daemon) did not answer '\(method)' within \(Self.seconds(timeout))"
        case .server(let daemon, let method, let error):
            return "\(daemon): '\(method)' failed: \(error.message) (JSON-RPC error \(error.code.rawValue))"
        case .connectionClosed(let daemon, let method):
            return "\(daemon) closed the connection before answering '\(method)'"
        case .invalidResponse(let daemon, let method, let reason):
            return "\(daemon) sent an invalid answer to '\(method)': \(reason)"
        case .invalidParams(let method, let reason):
            return "cannot encode the params of '\(method)': \(reason)"
        case .invalidPath(let path, let reason):
            return "cannot use socket path \(path): \(reason)"
        case .socket(let operation, let path, let code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code)))"
        }
    }

    public var errorDescription: String? { description }

    private static func seconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        let value = Double(s) + Double(atto) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : String(format: "%.3g s", value)
    }
}
