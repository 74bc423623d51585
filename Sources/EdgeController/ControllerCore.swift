// The controller's parts wired together from its configuration, without any service running:
// the daemon, the tests and the benchmark all start from here.
import EdgeCore
import EdgeRPC
import Foundation
import Logging

/// Why the controller cannot start with a configuration.
public struct ControllerStartupError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Registry, scorer, extender, ingest and metrics for one configuration.
public final class ControllerCore: Sendable {
    public let config: ControllerConfig
    public let limits: HTTPLimits
    public let registry: NodeRegistry
    public let metrics: ControllerMetrics
    public let extender: Extender
    public let ingest: ReportIngest
    public let version: String
    /// Bounds the extender requests in progress (shared by every connection).
    public let admission: ExtenderAdmission
    private let started = ContinuousClock.now

    /// Reads the token file (if configured) and builds the parts.
    /// `limits` nil: the ones the config's [server] section asks for.
    public init(config: ControllerConfig, limits: HTTPLimits? = nil, version: String = "dev") throws {
        self.config = config
        let limits = limits ?? HTTPLimits(config.server)
        self.limits = limits
        self.version = version
        let token: BearerToken?
        if let path = config.server.tokenFile {
            token = try BearerToken(contentsOfFile: path)
        } else {
            // Without a token anyone who can reach the port can feed the scheduler; only acceptable
            // when that is just this host.
            guard Self.isLoopback(config.server.listen.host) else {
                throw ControllerStartupError(reason: "server.token_file is empty but server.listen \(config.server.listen) "
                    + "is not a loopback address: refusing to accept unauthenticated reports from the network")
            }
            token = nil
        }
        registry = NodeRegistry(score: config.score, registry: config.registry)
        metrics = ControllerMetrics()
        extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: config.filter, stalePolicy: config.registry.stalePolicy, staleAfter: registry.staleAfter))
        ingest = ReportIngest(token: token, registry: registry, maxBytes: limits.maxReportBytes)
        admission = ExtenderAdmission(maxRequests: limits.maxExtenderRequests, largeBytes: limits.largeExtenderBytes)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `controller.status`, with the address actually bound (differs from the config for port 0).
    public func status(listen: String) -> ControllerStatusResult {
        let c = registry.counts()
        return ControllerStatusResult(
            version: version, uptimeSeconds: (ContinuousClock.now - started).seconds, listen: listen,
            tls: config.server.tlsCert != nil, authentication: ingest.token != nil,
            nodesTotal: c.total, nodesFresh: c.fresh, nodesStale: c.stale, reportsAccepted: c.reportsAccepted,
            normalisation: config.score.normalisation.rawValue, stalePolicy: config.registry.stalePolicy.rawValue,
            staleAfterSeconds: config.registry.staleAfterSeconds, smoothing: config.score.smoothing,
            hysteresis: config.score.hysteresis)
    }

    /// The Prometheus poller when `[source] kind = "prometheus"`, nil for pushes. Reads the source's
    /// token and CA files; errors name the key.
    public func prometheusSource(logger: Logger) throws -> PrometheusSource? {
        guard config.source.kind == .prometheus else { return nil }
        return try PrometheusSource(settings: config.source, registry: registry, logger: logger)
    }

    /// The HTTP routes.
    public func http(logger: Logger) -> ControllerHTTP {
        ControllerHTTP(ingest: ingest, extender: extender, metrics: metrics, maxExtenderBytes: limits.maxExtenderBytes,
                       admission: admission, logger: logger)
    }

    /// A router with the controller's methods; `listen` reports the bound HTTP address in status.
    public func rpcRouter(logger: Logger, listen: @escaping @Sendable () -> String) -> RPCRouter {
        var router = RPCRouter(logger: logger)
        ControllerRPC(registry: registry, extender: extender, config: config) { [self] in
            self.status(listen: listen())
        }.register(on: &router)
        return router
    }
}
