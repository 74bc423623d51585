// The controller's parts wired together from its configuration, without any service running:
// the daemon, the tests and the benchmark all start from here.
import EdgeAPI
import EdgeConfig
import EdgeRPC
import Foundation
import Logging
import Synchronization

/// Why the controller cannot start with a configuration.
public struct ControllerStartupError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Registry, scorer, extender, ingest and metrics for one configuration.
public final class ControllerCore: Sendable {
    /// The configuration in force: the start-up one, with [score] and [filter] replaced by each
    /// reload (`apply`).
    public var config: ControllerConfig { live.withLock { $0 } }
    private let live: Mutex<ControllerConfig>
    public let limits: HTTPLimits
    public let registry: NodeRegistry
    public let metrics: ControllerMetrics
    public let extender: Extender
    public let ingest: ReportIngest
    public let version: String
    public let started: MonotonicInstant
    /// Nodes read back from `registry.state_file` at start.
    public let restoredNodes: Int
    /// Why the state file could not be used (it was moved aside and the registry started empty).
    public let restoreError: String?
    /// Bounds the extender requests in progress (shared by every connection).
    public let admission: ExtenderAdmission

    /// Reads the token file (if configured) and builds the parts.
    /// `limits` nil: the ones the config's [server] section asks for.
    public init(config: ControllerConfig, limits: HTTPLimits? = nil, version: String = "dev",
                started: MonotonicInstant = .now) throws {
        self.live = Mutex(config)
        self.started = started
        let limits = limits ?? HTTPLimits(config.server)
        self.limits = limits
        admission = ExtenderAdmission(maxRequests: limits.maxExtenderRequests, largeBytes: limits.largeExtenderBytes)
        self.version = version
        try config.validateForStart(file: "(configuration)") // the rules --check-config applies
        let token: BearerToken?
        if let path = config.server.tokenFile {
            do {
                token = try BearerToken(contentsOfFile: path)
            } catch let e as BearerTokenError {
                throw ControllerStartupError(reason: "server.token_file \(path): \(e.reason)")
            }
        } else {
            token = nil // loopback only: validateForStart refused anything else
        }
        registry = NodeRegistry(score: config.score, registry: config.registry, damping: config.damping)
        if let path = config.registry.stateFile {
            let r = RegistryStore.loadOrSetAside(into: registry, from: path, now: started)
            restoredNodes = r.restored
            restoreError = r.error.map { "\($0); moved aside to \(path).bad, starting with an empty registry" }
        } else {
            restoredNodes = 0
            restoreError = nil
        }
        metrics = ControllerMetrics()
        extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: config.filter, stalePolicy: config.registry.stalePolicy, staleAfter: registry.staleAfter,
            damping: config.damping, unknownPolicy: config.registry.unknownPolicy,
            panicThreshold: config.registry.panicThreshold,
            warmupEnds: started + .milliseconds(Int64(config.registry.warmupSeconds * 1000))))
        ingest = ReportIngest(token: token, registry: registry, maxBytes: limits.maxReportBytes)
    }

    /// `/readyz`: after a start with a saved registry, ready once `registry.ready_share` of the
    /// saved nodes have reported again, or once `registry.warmup` has passed; without saved nodes,
    /// at once (nothing to wait for; /filter's panic threshold covers the empty registry).
    public func readiness(now: MonotonicInstant = .now) -> Readiness {
        let c = registry.counts(now: now)
        let r = registry.restoredCounts()
        let warm = now - started >= .milliseconds(Int64(config.registry.warmupSeconds * 1000))
        let enough = r.restored == 0 || Double(r.heard) >= config.registry.readyShare * Double(r.restored)
        let status: String
        if enough {
            status = "ready"
        } else if warm {
            status = "ready (warm-up over: \(r.heard) of \(r.restored) saved nodes have reported)"
        } else {
            status = "warming up: \(r.heard) of \(r.restored) saved nodes have reported, ready at "
                + "\(Int((config.registry.readyShare * Double(r.restored)).rounded(.up))) or after registry.warmup"
        }
        return Readiness(ready: enough || warm, status: status, nodes: c.total, fresh: c.fresh, stale: c.stale,
                         restored: r.restored, heard: r.heard)
    }

    /// The `/readyz` answer.
    public struct Readiness: Encodable, Sendable {
        public var ready: Bool
        public var status: String
        public var nodes: Int
        public var fresh: Int
        public var stale: Int
        /// Nodes read from the state file at start, and how many of them have reported since.
        public var restored: Int
        public var heard: Int
    }

    /// Applies a re-read configuration (SIGHUP): [score] and [filter] take effect at once (every
    /// node rescored, the next extender request filtered with the new limits). Returns the
    /// sections that changed but only take effect at a restart (sockets, token, registry, source).
    @discardableResult
    public func apply(_ fresh: ControllerConfig) -> [String] {
        registry.apply(score: fresh.score)
        extender.apply(filter: fresh.filter)
        return live.withLock { running in
            running.score = fresh.score
            running.filter = fresh.filter
            return Self.restartOnlyChanges(from: running, to: fresh)
        }
    }

    /// Settings fixed for the life of the process.
    static func restartOnlyChanges(from a: ControllerConfig, to b: ControllerConfig) -> [String] {
        var out: [String] = []
        if a.server != b.server { out.append("[server]") }
        if a.rpc != b.rpc { out.append("[rpc]") }
        if a.registry != b.registry { out.append("[registry]") }
        if a.source != b.source { out.append("[source]") }
        return out
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
                       admission: admission, logger: logger, readiness: { [self] in self.readiness() })
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
