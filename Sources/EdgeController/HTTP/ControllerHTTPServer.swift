// The Hummingbird application serving `ControllerHTTP`, over plain HTTP or TLS.
import EdgeCore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

public enum ControllerHTTPServer {
    /// A service that serves the controller's routes until graceful shutdown.
    /// `onListening` gets the bound port (the real one when the config asks for port 0).
    public static func make(core: ControllerCore, logger: Logger,
                            onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some Service {
        let nanos = core.limits.idleTimeout.components.seconds * 1_000_000_000
            + core.limits.idleTimeout.components.attoseconds / 1_000_000_000
        let http1 = HTTP1Channel.Configuration(idleTimeout: .nanoseconds(nanos))
        let server: HTTPServerBuilder
        if let cert = core.config.server.tlsCert, let key = core.config.server.tlsKey {
            server = try .tls(.http1(configuration: http1), tlsConfiguration: tlsConfiguration(cert: cert, key: key))
        } else {
            server = .http1(configuration: http1)
        }
        let listen = core.config.server.listen
        return Application(
            router: core.http(logger: logger).makeRouter(),
            server: server,
            // Past max_connections the listener stops accepting (the kernel's backlog holds the rest)
            // instead of running out of descriptors (issue 13, finding 5).
            configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: "edge-controller",
                                 availableConnectionsDelegate: MaximumAvailableConnections(core.limits.maxConnections, logger: logger)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? listen.port) },
            logger: logger)
    }

    /// Server TLS from PEM files, with errors naming the file.
    static func tlsConfiguration(cert: String, key: String) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(cert)
        } catch {
            throw ControllerStartupError(reason: "server.tls_cert \(cert): cannot load PEM certificate chain: \(error)")
        }
        guard !chain.isEmpty else {
            throw ControllerStartupError(reason: "server.tls_cert \(cert): no certificate in the file")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw ControllerStartupError(reason: "server.tls_key \(key): cannot load PEM private key: \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                        privateKey: .privateKey(privateKey))
    }
}
