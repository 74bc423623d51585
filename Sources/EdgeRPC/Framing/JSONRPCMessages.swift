// JSON-RPC 2.0 request and response messages, and the checks that turn an arbitrary JSON
// value into a request (each failure names the member that was wrong).
import EdgeCore
import Foundation

/// Why a JSON value is not a valid JSON-RPC request. `id` is the request's id when it
/// could be read, so that the error response can still be matched by the client.
public struct JSONRPCInvalidRequest: Error, Sendable, Equatable {
    public var id: JSONRPCID?
    public var reason: String

    public init(id: JSONRPCID?, reason: String) {
        self.id = id
        self.reason = reason
    }

    /// The error object to send back (-32600).
    public var errorObject: JSONRPCErrorObject {
        JSONRPCErrorObject(code: .invalidRequest, message: "invalid request: \(reason)")
    }
}

/// A JSON-RPC 2.0 request or notification.
public struct JSONRPCRequest: Sendable, Equatable {
    /// nil for a notification (no "id" member): the server sends no response.
    public var id: JSONRPCID?
    public var method: String
    /// nil when the request has no "params" member (or it is null).
    public var params: JSONValue?

    public init(id: JSONRPCID?, method: String, params: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }

    /// True when the sender expects no response.
    public var isNotification: Bool { id == nil }

    /// Checks `value` against the JSON-RPC 2.0 request shape.
    /// Unknown members are ignored; `"params": null` is accepted as "no params".
    public init(validating value: JSONValue) throws(JSONRPCInvalidRequest) {
        guard case .object(let members) = value else {
            throw JSONRPCInvalidRequest(id: nil, reason: "a request must be a JSON object, got \(value.kindDescription)")
        }
        var id: JSONRPCID?
        if let rawID = members["id"] {
            guard let parsed = JSONRPCID(rawID) else {
                throw JSONRPCInvalidRequest(
                    id: .null, reason: "\"id\" must be an integer, a string or null, got \(rawID.kindDescription)")
            }
            id = parsed
        }
        // Errors below answer with the id we could read (or null for a would-be notification).
        let replyID = id ?? .null
        switch members["jsonrpc"] {
        case .string(JSONRPCCodec.version):
            break
        case nil:
            throw JSONRPCInvalidRequest(id: replyID, reason: "missing \"jsonrpc\": \"2.0\"")
        case .some(let other):
            throw JSONRPCInvalidRequest(id: replyID, reason: "\"jsonrpc\" must be \"2.0\", got \(JSONRPCCodec.brief(other))")
        }
        switch members["method"] {
        case .string(let method):
            self.method = method
        case nil:
            throw JSONRPCInvalidRequest(id: replyID, reason: "missing \"method\"")
        case .some(let other):
            throw JSONRPCInvalidRequest(id: replyID, reason: "\"method\" must be a string, got \(other.kindDescription)")
        }
        switch members["params"] {
        case nil, .null:
            self.params = nil
        case .some(let p) where p.objectValue != nil || p.arrayValue != nil:
            self.params = p
        case .some(let other):
            throw JSONRPCInvalidRequest(
                id: replyID, reason: "\"params\" must be an object or an array, got \(other.kindDescription)")
        }
        self.id = id
    }

    /// The request as a JSON value (with "jsonrpc": "2.0").
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["jsonrpc": .string(JSONRPCCodec.version), "method": .string(method)]
        if let id { members["id"] = id.jsonValue }
        if let params { members["params"] = params }
        return .object(members)
    }
}

extension JSONRPCRequest: Codable {
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        do {
            try self.init(validating: value)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

/// A JSON-RPC 2.0 response: exactly one of `result` and `error` is set.
public struct JSONRPCResponse: Sendable, Equatable {
    public var id: JSONRPCID
    /// The result of a successful call (`.null` for a null result); nil when `error` is set.
    public var result: JSONValue?
    /// The error of a failed call; nil when `result` is set.
    public var error: JSONRPCErrorObject?

    /// A successful response.
    public init(id: JSONRPCID, result: JSONValue) {
        self.id = id
        self.result = result
        self.error = nil
    }

    /// A failed response.
    public init(id: JSONRPCID, error: JSONRPCErrorObject) {
        self.id = id
        self.result = nil
        self.error = error
    }
}

extension JSONRPCResponse: Codable {
    private enum Keys: String, CodingKey {
        case jsonrpc, id, result, error
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let version = try c.decodeIfPresent(String.self, forKey: .jsonrpc)
        guard version == JSONRPCCodec.version else {
            throw DecodingError.dataCorruptedError(
                forKey: .jsonrpc, in: c, debugDescription: "\"jsonrpc\" must be \"2.0\"")
        }
        // A response must carry "id", null included.
        guard c.contains(.id) else {
            throw DecodingError.keyNotFound(
                Keys.id, .init(codingPath: c.codingPath, debugDescription: "a response must carry \"id\""))
        }
        id = try c.decode(JSONRPCID.self, forKey: .id)
        let hasResult = c.contains(.result)
        let errorObject = try c.decodeIfPresent(JSONRPCErrorObject.self, forKey: .error)
        switch (hasResult, errorObject) {
        case (true, nil):
            result = try c.decode(JSONValue.self, forKey: .result)
            error = nil
        case (false, .some(let e)):
            result = nil
            error = e
        case (true, .some):
            throw DecodingError.dataCorruptedError(
                forKey: .error, in: c, debugDescription: "a response must not carry both \"result\" and \"error\"")
        case (false, nil):
            throw DecodingError.keyNotFound(
                Keys.result, .init(codingPath: c.codingPath, debugDescription: "a response must carry \"result\" or \"error\""))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(JSONRPCCodec.version, forKey: .jsonrpc)
        try c.encode(id, forKey: .id)
        if let error {
            try c.encode(error, forKey: .error)
        } else {
            try c.encode(result ?? .null, forKey: .result)
        }
    }
}
