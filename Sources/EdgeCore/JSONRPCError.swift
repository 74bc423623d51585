// JSON-RPC error codes and the error object carried in a response.
import Foundation

/// A JSON-RPC error code. The -327xx/-326xx codes are the specification's; the -320xx
/// codes are edgenode's application errors (the range the specification reserves for servers).
public struct JSONRPCErrorCode: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByIntegerLiteral {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(integerLiteral value: Int) { self.rawValue = value }

    /// The frame is not valid JSON.
    public static let parseError: JSONRPCErrorCode = -32700
    /// Valid JSON but not a valid request (wrong "jsonrpc", missing method, oversized frame, empty batch).
    public static let invalidRequest: JSONRPCErrorCode = -32600
    /// No handler is registered under that method name.
    public static let methodNotFound: JSONRPCErrorCode = -32601
    /// The params do not decode into what the method takes.
    public static let invalidParams: JSONRPCErrorCode = -32602
    /// The handler failed in a way it did not describe.
    public static let internalError: JSONRPCErrorCode = -32603
    /// The caller may read but this method changes state (needs root or the admin group).
    public static let permissionDenied: JSONRPCErrorCode = -32001
    /// The method exists but cannot answer now (telemetry not ready, kernel feature missing, server busy).
    public static let unavailable: JSONRPCErrorCode = -32002
    /// The thing the params name does not exist (unknown device, node, class).
    public static let notFound: JSONRPCErrorCode = -32003

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }

    /// A short human name for the well-known codes ("method not found"), nil for others.
    public var name: String? {
        switch self {
        case .parseError: return "parse error"
        case .invalidRequest: return "invalid request"
        case .methodNotFound: return "method not found"
        case .invalidParams: return "invalid params"
        case .internalError: return "internal error"
        case .permissionDenied: return "permission denied"
        case .unavailable: return "unavailable"
        case .notFound: return "not found"
        default: return nil
        }
    }
}

extension JSONRPCErrorCode: CustomStringConvertible {
    public var description: String { String(rawValue) }
}

/// The `error` member of a JSON-RPC response.
public struct JSONRPCErrorObject: Error, Sendable, Hashable, Codable {
    public var code: JSONRPCErrorCode
    /// One sentence for a human: what was wrong, naming the offending part.
    public var message: String
    /// Optional structured detail.
    public var data: JSONValue?

    public init(code: JSONRPCErrorCode, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }
}

extension JSONRPCErrorObject: CustomStringConvertible {
    public var description: String { "\(message) (JSON-RPC error \(code.rawValue))" }
}
