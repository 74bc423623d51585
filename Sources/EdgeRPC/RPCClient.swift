// The CLI's side of the local RPC: a blocking client on plain POSIX sockets that keeps one
// connection open across calls and turns every failure into an RPCClientError a person can act on.
import EdgeCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking JSON-RPC client for a daemon's Unix socket. Not thread-safe: use one client
/// per thread. The connection is opened on the first call and reused while it stays healthy.
public final class RPCClient {
    /// The socket path.
    public let path: String
    /// Bound on one call: connect (if needed), send and the complete answer.
    public let timeout: Duration
    /// Name used in messages ("edge-agent is not running …").
    public let daemonName: String
    /// The socket's group, named in the permission-denied hint.
    public let accessGroup: String

    private let maxResponseBytes: Int
    private var socket: UnixStreamSocket?
    private var framer: JSONRPCLineFramer
    private var receivedLines: [Data] = []
    private var nextID = 1

    /// - Parameters:
    ///   - daemonName: for messages; derived from the path when nil (`/run/edge-agent/…` → `edge-agent`).
    ///   - maxResponseBytes: longest accepted answer line.
    public init(
        path: String,
        timeout: Duration = .seconds(5),
        daemonName: String? = nil,
        accessGroup: String = "edgenode",
        maxResponseBytes: Int = 64 << 20
    ) {
        precondition(timeout > .zero, "RPCClient timeout must be positive")
        self.path = path
        self.timeout = timeout
        self.daemonName = daemonName ?? Self.daemonName(forSocketPath: path)
        self.accessGroup = accessGroup
        self.maxResponseBytes = maxResponseBytes
        self.framer = JSONRPCLineFramer(maxLineBytes: maxResponseBytes)
    }

    /// Calls `method` with `params` (encoded with EdgeJSON, snake_case) and decodes the result as `R`.
    public func call<R: Decodable>(_ method: String, params: (some Encodable)?, as type: R.Type = R.self) throws -> R {
        var paramsJSON: Data?
        if let params {
            do {
                paramsJSON = try EdgeJSON.encoder().encode(params)
            } catch {
                throw RPCClientError.invalidParams(method: method, reason: "\(error)")
            }
        }
        return try decodeResult(try exchange(method, paramsJSON: paramsJSON), method: method)
    }

    /// Calls `method` without params and decodes the result as `R`.
    public func call<R: Decodable>(_ method: String, as type: R.Type = R.self) throws -> R {
        try decodeResult(try exchange(method, paramsJSON: nil), method: method)
    }

    /// Calls a described method: params and result are its declared types.
    public func call<P, R>(_ method: RPCMethod<P, R>, params: P) throws -> R {
        try call(method.name, params: params, as: R.self)
    }

    /// Calls a described method that takes no params.
    public func call<R>(_ method: RPCMethod<NoParams, R>) throws -> R {
        try call(method.name, as: R.self)
    }

    /// Calls a described method with raw params (e.g. a pod spec edgectl does not model); the
    /// result comes back with its keys as on the wire.
    public func callRaw<P, R>(_ method: RPCMethod<P, R>, params: JSONValue? = nil) throws -> JSONValue {
        try callRaw(method.name, params: params)
    }

    /// Calls `method` with raw params; the result comes back with its keys as on the wire.
    public func callRaw(_ method: String, params: JSONValue? = nil) throws -> JSONValue {
        let frame = try exchange(method, paramsJSON: try params.map { try JSONEncoder().encode($0) })
        return try decodeResult(frame, method: method)
    }

    /// Sends a notification (no id): the daemon runs it and answers nothing.
    public func notify(_ method: String, params: JSONValue? = nil) throws {
        var line = JSONRPCCodec.encodeRequest(
            id: nil, method: method, paramsJSON: try params.map { try JSONEncoder().encode($0) })
        line.append(UInt8(ascii: "\n"))
        try sendLine(line, method: method, deadline: .now + timeout)
    }

    /// Sends bytes as they are (for diagnostics and protocol tests); add the `\n` yourself.
    public func sendRaw(_ bytes: Data) throws {
        try sendLine(bytes, method: "(raw)", deadline: .now + timeout)
    }

    /// Reads the next answer line, whatever it is (for diagnostics and protocol tests).
    public func receiveFrame() throws -> Data {
        try readFrame(method: "(raw)", deadline: .now + timeout)
    }

    /// Closes the connection; the next call opens a new one.
    public func close() {
        socket?.close()
        socket = nil
        framer = JSONRPCLineFramer(maxLineBytes: maxResponseBytes)
        receivedLines.removeAll()
    }

    /// The daemon name a socket path suggests: the first of the file's stem and its directory's
    /// name that starts with "edge-", else the file's stem.
    public static func daemonName(forSocketPath path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let directory = url.deletingLastPathComponent().lastPathComponent
        return [stem, directory].first { $0.hasPrefix("edge-") } ?? stem
    }

    // MARK: - Exchange

    /// Sends one request and returns the response frame that answers it.
    private func exchange(_ method: String, paramsJSON: Data?) throws -> Data {
        let id = JSONRPCID.int(nextID)
        nextID += 1
        var line = JSONRPCCodec.encodeRequest(id: id, method: method, paramsJSON: paramsJSON)
        line.append(UInt8(ascii: "\n"))
        let deadline = ContinuousClock.now + timeout
        try sendLine(line, method: method, deadline: deadline)
        let frame = try readFrame(method: method, deadline: deadline)
        let probe: ResponseProbe
        do {
            probe = try JSONDecoder().decode(ResponseProbe.self, from: frame)
        } catch {
            close()
            throw RPCClientError.invalidResponse(
                daemon: daemonName, method: method, reason: JSONRPCCodec.describe(error))
        }
        // An error with id null answers us too: the server could not tell which request it was
        // (or it turned the connection away because it is full).
        if let error = probe.error, probe.id == id || probe.id == .null {
            throw RPCClientError.server(daemon: daemonName, method: method, error: error)
        }
        guard probe.id == id else {
            close()
            throw RPCClientError.invalidResponse(
                daemon: daemonName, method: method, reason: "answer has id \(probe.id), expected \(id)")
        }
        return frame
    }

    private func decodeResult<R: Decodable>(_ frame: Data, method: String) throws -> R {
        do {
            if R.self == JSONValue.self {
                guard let result = try JSONDecoder().decode(ResultBox<JSONValue>.self, from: frame).result as? R
                else { throw RPCClientError.invalidResponse(daemon: daemonName, method: method, reason: "no result") }
                return result
            }
            return try EdgeJSON.decoder().decode(ResultBox<R>.self, from: frame).result
        } catch let error as DecodingError {
            throw RPCClientError.invalidResponse(
                daemon: daemonName, method: method, reason: "result: \(RPCParamsDecoding.describe(error))")
        }
    }

    private func sendLine(_ line: Data, method: String, deadline: ContinuousClock.Instant) throws {
        var (sock, reused) = try connectedSocket(method: method, deadline: deadline)
        while true {
            do {
                try sock.send(line, deadline: deadline)
                return
            } catch let error as UnixSocketError where error.code == EPIPE || error.code == ECONNRESET {
                if reused {
                    // The server dropped the idle connection just now and has not seen this
                    // request: sending it once more on a fresh connection is safe.
                    close()
                    (sock, reused) = try connectedSocket(method: method, deadline: deadline)
                    continue
                }
                // A fresh connection closed at once: the server may have turned us away with
                // an error line (too many clients) that is still waiting to be read.
                if let rejection = try? readFrame(method: method, deadline: min(deadline, .now + .milliseconds(200))),
                   let probe = try? JSONDecoder().decode(ResponseProbe.self, from: rejection), let object = probe.error {
                    close()
                    throw RPCClientError.server(daemon: daemonName, method: method, error: object)
                }
                throw failure(error, method: method)
            } catch let error as UnixSocketError {
                throw failure(error, method: method)
            }
        }
    }

    private func readFrame(method: String, deadline: ContinuousClock.Instant) throws -> Data {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while receivedLines.isEmpty {
            guard let sock = socket else { throw RPCClientError.connectionClosed(daemon: daemonName, method: method) }
            let n: Int
            do {
                n = try chunk.withUnsafeMutableBytes { try sock.receive(into: $0, deadline: deadline) }
            } catch let error as UnixSocketError {
                throw failure(error, method: method)
            }
            if n == 0 {
                close()
                throw RPCClientError.connectionClosed(daemon: daemonName, method: method)
            }
            for event in chunk.withUnsafeBytes({ framer.feed(UnsafeRawBufferPointer(rebasing: $0[..<n])) }) {
                switch event {
                case .line(let line):
                    receivedLines.append(line)
                case .oversized(let limit):
                    close()
                    throw RPCClientError.invalidResponse(
                        daemon: daemonName, method: method, reason: "answer longer than \(limit) bytes")
                }
            }
        }
        return receivedLines.removeFirst()
    }

    /// The open connection if it is still clean, else a new one.
    private func connectedSocket(method: String, deadline: ContinuousClock.Instant) throws -> (UnixStreamSocket, reused: Bool) {
        if let socket {
            if socket.isReusable() && receivedLines.isEmpty && !framer.hasPartialLine { return (socket, true) }
            close()
        }
        let left = deadline - .now
        guard left > .zero else { throw RPCClientError.timedOut(daemon: daemonName, method: method, timeout: timeout) }
        do {
            let fresh = try UnixStreamSocket.connect(path: path, timeout: left)
            socket = fresh
            return (fresh, false)
        } catch let error as UnixSocketError {
            throw failure(error, method: method)
        }
    }

    /// Maps a socket error to what it means for the user. Any failure mid-exchange leaves the
    /// stream in an unknown state, so the connection is dropped.
    private func failure(_ error: UnixSocketError, method: String) -> RPCClientError {
        close()
        return Self.clientError(for: error, path: path, daemon: daemonName, group: accessGroup,
                                method: method, timeout: timeout)
    }

    static func clientError(
        for error: UnixSocketError, path: String, daemon: String, group: String, method: String, timeout: Duration
    ) -> RPCClientError {
        switch (error.operation, error.code) {
        case (_, ETIMEDOUT):
            return .timedOut(daemon: daemon, method: method, timeout: timeout)
        case ("connect", ENOENT), ("connect", ENOTDIR):
            return .notRunning(daemon: daemon, path: path)
        case ("connect", ECONNREFUSED):
            return .staleSocket(daemon: daemon, path: path)
        case ("connect", EACCES), ("connect", EPERM):
            return .permissionDenied(path: path, group: group)
        case ("connect", ENAMETOOLONG):
            return .invalidPath(path: path, reason: "longer than \(UnixStreamSocket.maxPathBytes) bytes")
        case (_, EPIPE), (_, ECONNRESET):
            return .connectionClosed(daemon: daemon, method: method)
        default:
            return .socket(operation: error.operation, path: path, errno: error.code)
        }
    }
}

/// The parts of a response needed to route it: its id and whether it is an error.
private struct ResponseProbe: Decodable {
    var id: JSONRPCID
    var error: JSONRPCErrorObject?

    private enum Keys: String, CodingKey { case id, error }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = c.contains(.id) ? try c.decode(JSONRPCID.self, forKey: .id) : .null
        error = try c.decodeIfPresent(JSONRPCErrorObject.self, forKey: .error)
    }
}

/// The "result" member of a response, decoded straight into the caller's type.
private struct ResultBox<R: Decodable>: Decodable {
    var result: R
}
