// Start-up failures of a listener, worded for the journal: what the daemon was doing, the address
// or path, and the config key that set it (issue 17 item 5). NIO's own text
// ("bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)") names none of these.
import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A listener could not be opened.
public struct ListenFailure: Error, CustomStringConvertible, Sendable {
    /// "127.0.0.1:8477" or a socket path.
    public let address: String
    /// The config key the address comes from ("server.listen", "rpc.socket").
    public let key: String
    public let reason: String

    public init(address: String, key: String, error: any Error) {
        self.address = address
        self.key = key
        self.reason = Self.reason(of: error)
    }

    public var description: String { "cannot listen on \(address) (\(key)): \(reason)" }

    /// The system's words for an error: "bind: Address already in use (errno 98)" for NIO's
    /// IOError, the text of our own errors without a repeated "cannot listen on <path>:".
    public static func reason(of error: any Error) -> String {
        if let io = error as? IOError {
            let call = String(describing: io).split(separator: "(").first.map(String.init) ?? "system call"
            return "\(call): \(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))"
        }
        if let own = error as? RPCServerError {
            switch own {
            case .pathNotASocket, .socketInUse:
                let text = own.description
                return text.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? text
            default:
                return own.description
            }
        }
        return String(describing: error)
    }
}

/// Runs a server service and turns a failure before it listens into a `ListenFailure`.
/// `listening` is set by the server's own "now listening" callback.
public struct ListenReportingService<Inner: Service>: Service {
    let inner: Inner
    let address: String
    let key: String
    let listening: ListeningFlag

    public init(_ inner: Inner, address: String, key: String, listening: ListeningFlag) {
        self.inner = inner
        self.address = address
        self.key = key
        self.listening = listening
    }

    public func run() async throws {
        do {
            try await inner.run()
        } catch {
            guard !listening.isSet else { throw error }
            throw ListenFailure(address: address, key: key, error: error)
        }
    }
}

/// Set once a server listens.
public final class ListeningFlag: Sendable {
    private let value = Atomic<Bool>(false)
    public init() {}
    public func set() { value.store(true, ordering: .releasing) }
    public var isSet: Bool { value.load(ordering: .acquiring) }
}
