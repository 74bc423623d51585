// The handler table: method name → access level, summary and a type-erased handler, plus the
// JSON-RPC dispatch rules (batches, notifications, error mapping, the write-permission gate).
import EdgeCore
import Foundation
import Logging

/// One entry of `rpc.methods`.
public struct RPCMethodInfo: Sendable, Codable, Equatable {
    public var name: String
    public var access: RPCAccess
    public var summary: String

    public init(name: String, access: RPCAccess, summary: String) {
        self.name = name
        self.access = access
        self.summary = summary
    }
}

/// The result of the built-in `rpc.methods`.
public struct RPCMethodList: Sendable, Codable, Equatable {
    public var methods: [RPCMethodInfo]

    public init(methods: [RPCMethodInfo]) {
        self.methods = methods
    }
}

/// A table of JSON-RPC methods. Build it before starting the server; it is a value and is
/// copied into the server.
///
/// Params are decoded and results encoded with `EdgeJSON` (snake_case keys). Handlers throw
/// `RPCError` for application errors; any other error becomes -32603 with its description.
public struct RPCRouter: Sendable {
    /// The built-in method listing every method with its access and summary.
    public static let methodsMethod = "rpc.methods"

    private typealias Invoke = @Sendable (JSONValue?, RPCPeer) async throws -> Data

    private struct Entry: Sendable {
        var info: RPCMethodInfo
        var invoke: Invoke
    }

    private var entries: [String: Entry] = [:]
    private let logger: Logger
    /// Most requests in one batch; a larger batch is refused whole, before any of it runs, so
    /// that one frame is a bounded amount of work. `RPCServer` sets it from its configuration.
    public var maxBatchRequests = 64

    public init(logger: Logger = Logger(label: "edgenode.rpc")) {
        self.logger = logger
    }

    /// Registers `method` taking params `P` and returning `R`.
    /// - Precondition: `method` is not empty, not yet registered, and does not start with
    ///   `rpc.` (reserved by JSON-RPC for built-ins).
    public mutating func register<P: Decodable & Sendable, R: Encodable & Sendable>(
        _ method: String,
        access: RPCAccess,
        summary: String,
        _ handler: @escaping @Sendable (P, RPCPeer) async throws -> R
    ) {
        add(RPCMethodInfo(name: method, access: access, summary: summary)) { params, peer in
            let decoded = try RPCParamsDecoding.decode(P.self, from: params, method: method)
            return try Self.encodeResult(try await handler(decoded, peer), method: method)
        }
    }

    /// Registers a described method: the handler takes its params type and returns its result type.
    public mutating func register<P, R>(_ method: RPCMethod<P, R>, access: RPCAccess, summary: String,
                                        _ handler: @escaping @Sendable (P, RPCPeer) async throws -> R) {
        register(method.name, access: access, summary: summary, handler)
    }

    /// Registers a described method that takes no params.
    public mutating func register<R>(_ method: RPCMethod<NoParams, R>, access: RPCAccess, summary: String,
                                     _ handler: @escaping @Sendable (RPCPeer) async throws -> R) {
        register(method.name, access: access, summary: summary, handler)
    }

    /// Registers `method` taking no params (absent, null, `{}` or `[]`) and returning `R`.
    public mutating func register<R: Encodable & Sendable>(
        _ method: String,
        access: RPCAccess,
        summary: String,
        _ handler: @escaping @Sendable (RPCPeer) async throws -> R
    ) {
        add(RPCMethodInfo(name: method, access: access, summary: summary)) { params, peer in
            try RPCParamsDecoding.requireNone(params, method: method)
            return try Self.encodeResult(try await handler(peer), method: method)
        }
    }

    /// Every method, built-in included, sorted by name.
    public var methods: [RPCMethodInfo] {
        let builtIn = RPCMethodInfo(
            name: Self.methodsMethod, access: .read, summary: "List the methods with their access and summary.")
        return ([builtIn] + entries.values.map(\.info)).sorted { $0.name < $1.name }
    }

    /// Answers one frame (a request, a notification or a batch).
    /// - Returns: the response frame without its newline, or nil when nothing is to be sent
    ///   (a notification, or a batch of notifications).
    public func handle(frame: Data, peer: RPCPeer) async -> Data? {
        switch JSONRPCCodec.parseFrame(frame) {
        case .failure(let error):
            return JSONRPCCodec.encodeError(id: .null, error)
        case .success(.array(let items)):
            guard !items.isEmpty else {
                return JSONRPCCodec.encodeError(
                    id: .null, JSONRPCErrorObject(code: .invalidRequest, message: "invalid request: empty batch"))
            }
            guard items.count <= maxBatchRequests else {
                logger.debug("refused an oversized batch", metadata: [
                    "requests": "\(items.count)", "limit": "\(maxBatchRequests)", "pid": "\(peer.pid)", "uid": "\(peer.uid)",
                ])
                return JSONRPCCodec.encodeError(id: .null, JSONRPCErrorObject(
                    code: .invalidRequest,
                    message: "invalid request: a batch of \(items.count) requests exceeds the limit of \(maxBatchRequests) (rpc.max_batch); nothing was run"))
            }
            var responses: [Data] = []
            for item in items {
                if let response = await handle(message: item, peer: peer) { responses.append(response) }
                await Task.yield()  // other connections' requests get their turn between items
            }
            return responses.isEmpty ? nil : JSONRPCCodec.encodeBatch(responses)
        case .success(let message):
            return await handle(message: message, peer: peer)
        }
    }

    /// Answers one already-parsed message (not a batch).
    public func handle(message: JSONValue, peer: RPCPeer) async -> Data? {
        let request: JSONRPCRequest
        do {
            request = try JSONRPCRequest(validating: message)
        } catch {
            return JSONRPCCodec.encodeError(id: error.id ?? .null, error.errorObject)
        }
        let outcome = await call(request, peer: peer)
        guard let id = request.id else { return nil }  // notifications are never answered
        switch outcome {
        case .success(let resultJSON): return JSONRPCCodec.encodeSuccess(id: id, resultJSON: resultJSON)
        case .failure(let error): return JSONRPCCodec.encodeError(id: id, error)
        }
    }

    // MARK: - Internals

    private mutating func add(_ info: RPCMethodInfo, _ invoke: @escaping Invoke) {
        precondition(!info.name.isEmpty, "RPC method name must not be empty")
        precondition(!info.name.hasPrefix("rpc."), "RPC method names starting with 'rpc.' are reserved: \(info.name)")
        precondition(entries[info.name] == nil, "RPC method registered twice: \(info.name)")
        entries[info.name] = Entry(info: info, invoke: invoke)
    }

    private func call(_ request: JSONRPCRequest, peer: RPCPeer) async -> Result<Data, JSONRPCErrorObject> {
        if request.method == Self.methodsMethod {
            do {
                try RPCParamsDecoding.requireNone(request.params, method: request.method)
                return .success(try Self.encodeResult(RPCMethodList(methods: methods), method: request.method))
            } catch {
                return .failure(errorObject(for: error, method: request.method))
            }
        }
        guard let entry = entries[request.method] else {
            return .failure(JSONRPCErrorObject(
                code: .methodNotFound, message: "method not found: '\(request.method)' (see rpc.methods)"))
        }
        if entry.info.access == .write {
            guard peer.canWrite else {
                logger.notice("refused write method to unprivileged peer", metadata: Self.metadata(request, peer))
                return .failure(JSONRPCErrorObject(
                    code: .permissionDenied,
                    message: "permission denied: '\(request.method)' changes state and needs root or the admin group (rpc.admin_group)"))
            }
            // State changes leave a trail: who asked for what.
            logger.notice("write method called", metadata: Self.metadata(request, peer))
        }
        do {
            return .success(try await entry.invoke(request.params, peer))
        } catch {
            return .failure(errorObject(for: error, method: request.method))
        }
    }

    private func errorObject(for error: any Error, method: String) -> JSONRPCErrorObject {
        if let rpcError = error as? RPCError { return rpcError.errorObject }
        logger.error("RPC handler failed", metadata: ["method": "\(method)", "error": "\(error)"])
        return JSONRPCErrorObject(code: .internalError, message: "internal error in '\(method)': \(error)")
    }

    private static func encodeResult<R: Encodable>(_ result: R, method: String) throws -> Data {
        do {
            if let raw = result as? JSONValue {
                return try JSONEncoder().encode(raw)  // verbatim keys, see JSONValue
            }
            return try EdgeJSON.encoder().encode(result)
        } catch {
            throw RPCError(code: .internalError, message: "internal error in '\(method)': result not encodable: \(error)")
        }
    }

    private static func metadata(_ request: JSONRPCRequest, _ peer: RPCPeer) -> Logger.Metadata {
        ["method": "\(request.method)", "pid": "\(peer.pid)", "uid": "\(peer.uid)"]
    }
}
