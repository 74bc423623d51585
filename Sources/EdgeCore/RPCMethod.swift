// The shape of a typed JSON-RPC method. The methods themselves (names with their params and result
// types) are the wire API, in EdgeAPI's RPCMethods.swift; EdgeRPC registers and calls through this
// type without knowing any of them.

/// One JSON-RPC method: its name, params type and result type.
public struct RPCMethod<Params: Codable & Sendable, Result: Codable & Sendable>: Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    public var description: String { name }
}

/// The params of a method that takes none (sent as absent; the server accepts absent, null,
/// `{}` and `[]`).
public struct NoParams: Codable, Sendable, Equatable {
    public init() {}
}
