// The error a handler throws to answer with a specific JSON-RPC error.
import EdgeCore

/// Thrown by handlers to answer with `code` and `message` (and optional `data`).
/// Any other error a handler throws is answered as -32603 internal error.
public struct RPCError: Error, Sendable, Equatable {
    public var code: JSONRPCErrorCode
    public var message: String
    public var data: JSONValue?

    public init(code: JSONRPCErrorCode, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// -32001: the caller lacks the right to do this.
    public static func permissionDenied(_ message: String) -> RPCError {
        RPCError(code: .permissionDenied, message: message)
    }

    /// -32002: cannot answer now (not ready yet, kernel feature missing).
    public static func unavailable(_ message: String, data: JSONValue? = nil) -> RPCError {
        RPCError(code: .unavailable, message: message, data: data)
    }

    /// -32003: the thing named in the params does not exist.
    public static func notFound(_ message: String) -> RPCError {
        RPCError(code: .notFound, message: message)
    }

    /// -32602: the params decoded but make no sense (a negative rate, say).
    public static func invalidParams(_ message: String) -> RPCError {
        RPCError(code: .invalidParams, message: message)
    }

    /// The wire form.
    public var errorObject: JSONRPCErrorObject {
        JSONRPCErrorObject(code: code, message: message, data: data)
    }
}

extension RPCError: CustomStringConvertible {
    public var description: String { "\(message) (JSON-RPC error \(code.rawValue))" }
}
