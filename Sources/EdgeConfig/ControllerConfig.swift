// edge-controller's configuration file (/etc/edgenode/controller.toml). Same rules as the agent's:
// every key has a default, unknown keys and wrong types are errors, durations are Double seconds.
import EdgeCore
import EdgeTelemetry
import Foundation
import TOMLKit

/// How signals are mapped into [0, 1] before weighting.
public enum ScoreNormalisation: String, CaseIterable, Sendable {
    /// Over the configured `score.bounds`.
    case fixed
    /// Over the smallest and largest value among the candidate nodes.
    case minmax
}

/// What happens to a node whose telemetry is older than `registry.stale_after`.
public enum StalePolicy: String, CaseIterable, Sendable {
    /// Filtered out of the candidates.
    case filter
    /// Kept, with the lowest priority.
    case lowest
}

/// The priority of a node that has never reported (missing telemetry is not sickness: it stays feasible).
public enum UnknownPolicy: String, CaseIterable, Sendable {
    /// Priority 0: every node with telemetry ranks before it.
    case lowest
    /// Priority 5, the middle of the range: neither preferred nor avoided.
    case neutral
}

/// The controller's settings.
public struct ControllerConfig: Sendable, Equatable {
    /// [server]: the HTTP listener (report ingest, scheduler extender, /metrics).
    public struct Server: Sendable, Equatable {
        public var listen: ListenAddress
        /// File holding the bearer token agents must present; nil = no authentication.
        public var tokenFile: String?
        /// TLS certificate and key (PEM); both nil = plain HTTP.
        public var tlsCert: String?
        public var tlsKey: String?
        /// Most HTTP connections open at once; past it the listener stops accepting (the kernel's
        /// backlog holds the rest) so that descriptors stay for the daemon's own work.
        public var maxConnections: Int
        /// Seconds a connection may stay without traffic (also mid-request) before it is closed.
        public var idleTimeoutSeconds: Double
        /// Largest /filter or /prioritize body, bytes.
        public var maxExtenderBody: Int
        /// Most extender requests read and answered at once; more get 503 at once.
        public var maxExtenderRequests: Int

        /// 5 000 full `v1.Node` objects as kube-scheduler sends them without `nodeCacheCapable`
        /// (50 images each, kubelet's nodeStatusMaxImages) are 62.4 MB: see ExtenderBodySizeTests.
        public static let defaultMaxExtenderBody = 64 << 20

        public init(listen: ListenAddress, tokenFile: String?, tlsCert: String?, tlsKey: String?,
                    maxConnections: Int = 4096, idleTimeoutSeconds: Double = 120,
                    maxExtenderBody: Int = defaultMaxExtenderBody, maxExtenderRequests: Int = 16) {
            self.listen = listen
            self.tokenFile = tokenFile
            self.tlsCert = tlsCert
            self.tlsKey = tlsKey
            self.maxConnections = maxConnections
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.maxExtenderBody = maxExtenderBody
            self.maxExtenderRequests = maxExtenderRequests
        }
    }

    /// [score]
    public struct Score: Sendable, Equatable {
        /// Weight per signal (≥ 0, sum > 0); every signal has an entry.
        public var weights: [ScoreSignal: Double]
        public var normalisation: ScoreNormalisation
        /// Normalisation bounds per signal (used by `.fixed`); every signal has an entry.
        public var bounds: [ScoreSignal: SignalBounds]
        /// The narrowest range `.minmax` spreads over [0, 1], per signal, in the signal's unit; every
        /// signal has an entry. Candidates closer together than this are not told apart by the full
        /// range: without it, healthy nodes 0.2 ms or 3 % CPU apart would land at 0 and 1 and the
        /// top node would follow noise.
        public var minmaxFloor: [ScoreSignal: Double]
        /// EWMA factor in (0, 1] applied when a node's raw score gets worse ("attack"): 1 = no smoothing.
        public var smoothing: Double
        /// EWMA factor in (0, 1] applied when it gets better ("release"). Smaller than `smoothing` by
        /// default: degradation is believed at once, recovery only once it lasts, so a node flapping
        /// between healthy and degraded settles near its degraded score instead of oscillating.
        public var recoverySmoothing: Double
        /// Score change (in [0, 1] score units) needed before a node's published score moves.
        public var hysteresis: Double
        /// A node whose RTT p99 is at least this many times the fresh nodes' median (and at least
        /// `outlierMinGapMs` above it) is ranked lowest while it lasts; 0 = off. See `RTTOutlier`.
        public var outlierRatio: Double
        /// The least RTT p99 above the median, in ms, that makes an outlier (a 0.3 ms node is not
        /// an outlier among 0.05 ms ones).
        public var outlierMinGapMs: Double

        /// Default `minmaxFloor`, from the signal catalogue: 1 ms of RTT or run-queue latency,
        /// 0.5 % retransmits, 1 weighted drop per second, 10 % CPU.
        public static let defaultMinmaxFloor: [ScoreSignal: Double] = ScoreSignal.defaultMinmaxFloor
        public init(weights: [ScoreSignal: Double], normalisation: ScoreNormalisation,
                    bounds: [ScoreSignal: SignalBounds], minmaxFloor: [ScoreSignal: Double] = defaultMinmaxFloor,
                    smoothing: Double, recoverySmoothing: Double? = nil, hysteresis: Double,
                    outlierRatio: Double = defaultOutlierRatio, outlierMinGapMs: Double = defaultOutlierMinGapMs) {
            self.weights = weights
            self.normalisation = normalisation
            self.bounds = bounds
            self.minmaxFloor = minmaxFloor
            self.smoothing = smoothing
            self.recoverySmoothing = recoverySmoothing ?? smoothing
            self.hysteresis = hysteresis
            self.outlierRatio = outlierRatio
            self.outlierMinGapMs = outlierMinGapMs
        }

        /// 4×: far outside the spread of healthy nodes' RTT tails, which differ by tens of percent.
        public static let defaultOutlierRatio = 4.0
        public static let defaultOutlierMinGapMs = 5.0
    }

    /// [registry]
    public struct Registry: Sendable, Equatable {
        /// Seconds after the last report at which a node's telemetry is stale.
        public var staleAfterSeconds: Double
        public var stalePolicy: StalePolicy
        /// Most nodes tracked.
        public var maxNodes: Int
        /// Priority of nodes that never reported (they are never filtered for it).
        public var unknownPolicy: UnknownPolicy
        /// Envoy's panic threshold: when fewer than this share of a request's candidates have fresh
        /// telemetry, /filter keeps every candidate and /prioritize ranks them all equal. 0 = never.
        public var panicThreshold: Double
        /// Where the registry is kept across restarts; nil = not kept.
        public var stateFile: String?
        /// Time between saves of `stateFile` (it is also saved on a clean stop).
        public var saveIntervalSeconds: Double
        /// After a start with a saved registry, /readyz waits until this share of the saved nodes
        /// has reported again, or until `warmupSeconds` have passed.
        public var readyShare: Double
        /// Longest wait for `readyShare`; also how long saved nodes that have not reported since the
        /// start count as "not heard yet" (feasible) rather than stale.
        public var warmupSeconds: Double

        /// Most `peers` entries in one report; a longer list is refused (400).
        public var maxPeers: Int
        /// Most `drops` entries in one report; a longer list is refused (400).
        public var maxDropReasons: Int

        public init(staleAfterSeconds: Double, stalePolicy: StalePolicy, maxNodes: Int,
                    unknownPolicy: UnknownPolicy = .lowest, panicThreshold: Double = 0.5, stateFile: String? = nil,
                    saveIntervalSeconds: Double = 30, readyShare: Double = 0.8, warmupSeconds: Double = 75,
                    maxPeers: Int = 1024, maxDropReasons: Int = 256) {
            self.staleAfterSeconds = staleAfterSeconds
            self.stalePolicy = stalePolicy
            self.maxNodes = maxNodes
            self.unknownPolicy = unknownPolicy
            self.panicThreshold = panicThreshold
            self.stateFile = stateFile
            self.saveIntervalSeconds = saveIntervalSeconds
            self.readyShare = readyShare
            self.warmupSeconds = warmupSeconds
            self.maxPeers = maxPeers
            self.maxDropReasons = maxDropReasons
        }
    }

    /// [filter]: hard limits for the extender's /filter; nil = no limit.
    public struct Filter: Sendable, Equatable {
        /// Limit per signal (the catalogue's `filterable` ones), in the signal's unit; a signal
        /// without an entry has no limit.
        public var limits: [TelemetrySignal: Double]

        public init(limits: [TelemetrySignal: Double] = [:]) {
            self.limits = limits
        }

        /// The limit on `signal`, nil = none.
        public subscript(signal: TelemetrySignal) -> Double? {
            get { limits[signal] }
            set { limits[signal] = newValue }
        }
    }

    /// [damping]: memory of unreliable nodes, after BGP route-flap damping (RFC 2439). Every time a
    /// node's telemetry goes stale, or comes back from stale, the node earns `penalty`; the penalty
    /// halves every `halfLifeSeconds`. Above `suppress` the node is suppressed (filtered while other
    /// candidates remain, otherwise ranked lowest) until the penalty has decayed below `reuse`. The
    /// penalty never exceeds the value that decays to `reuse` in `maxSuppressSeconds`, so a node that
    /// stops flapping is reused at most that long after its last flap.
    public struct Damping: Sendable, Equatable {
        /// Penalty per stale↔fresh transition; 0 switches damping off.
        public var penalty: Double
        public var halfLifeSeconds: Double
        public var suppress: Double
        public var reuse: Double
        public var maxSuppressSeconds: Double

        public init(penalty: Double, halfLifeSeconds: Double, suppress: Double, reuse: Double, maxSuppressSeconds: Double) {
            self.penalty = penalty
            self.halfLifeSeconds = halfLifeSeconds
            self.suppress = suppress
            self.reuse = reuse
            self.maxSuppressSeconds = maxSuppressSeconds
        }

        /// The most penalty a node can hold: `reuse · 2^(max_suppress / half_life)` (RFC 2439's ceiling).
        public var ceiling: Double { reuse * Foundation.pow(2, maxSuppressSeconds / halfLifeSeconds) }
    }

    public var server: Server
    public var rpc: RPCConfig
    public var score: Score
    public var registry: Registry
    public var filter: Filter
    /// [source]: pushes (the default) or a Prometheus server.
    public var source: Source
    public var damping: Damping

    public init(server: Server, rpc: RPCConfig, score: Score, registry: Registry, filter: Filter,
                source: Source = .push, damping: Damping = defaultDamping) {
        self.server = server
        self.rpc = rpc
        self.score = score
        self.registry = registry
        self.filter = filter
        self.source = source
        self.damping = damping
    }

    /// One outage (two transitions, 2 000 less a little decay) stays below `suppress`; a second
    /// outage within a few minutes crosses it. A minute's half-life forgets a single outage in about
    /// 1.5 min (down to `reuse`); `max_suppress` bounds a node that flapped for hours to 10 min.
    public static let defaultDamping = Damping(penalty: 1000, halfLifeSeconds: 60, suppress: 2000, reuse: 750,
                                               maxSuppressSeconds: 600)

    /// The configuration of an empty file.
    public static let defaults = ControllerConfig(
        server: Server(listen: ListenAddress(host: "127.0.0.1", port: 8477), tokenFile: "/etc/edgenode/token",
                       tlsCert: nil, tlsKey: nil),
        rpc: RPCConfig(socket: "/run/edge-controller/controller.sock"),
        score: Score(
            weights: ScoreSignal.defaultWeights,
            normalisation: .fixed,
            bounds: ScoreSignal.defaultBounds,
            smoothing: 0.3, recoverySmoothing: 0.05, hysteresis: 0.05),
        registry: Registry(staleAfterSeconds: 15, stalePolicy: .filter, maxNodes: 20000,
                           stateFile: "/var/lib/edge-controller/registry.json"),
        filter: Filter())

    static let staleAfterRange = 1.0...3600.0
    static let maxNodesRange = 1...1_000_000
    static let maxPeersRange = 0...65536
    static let maxConnectionsRange = 16...1_000_000
    static let idleTimeoutRange = 1.0...3600.0
    static let maxExtenderBodyRange = 65536...(1 << 30)
    static let maxExtenderRequestsRange = 1...1024
    static let maxDropReasonsRange = 0...4096
    static var signalNames: [String] { ScoreSignal.allCases.map(\.rawValue) }

    /// Reads and validates the file at `path`.
    public static func load(path: String) throws -> ControllerConfig {
        try parse(text: ConfigDocument.readText(path: path), file: path)
    }

    /// Parses and validates TOML text; `file` is used in error messages.
    public static func parse(text: String, file: String) throws -> ControllerConfig {
        let doc = try ConfigDocument(text: text, file: file)
        try doc.checkSections(["server", "rpc", "score", "registry", "filter", "source", "damping"])
        let d = defaults

        let s = try doc.section("server", keys: ["listen", "token_file", "tls_cert", "tls_key", "max_connections",
                                                 "idle_timeout", "max_extender_body", "max_extender_requests"])
        let server = Server(
            listen: try s.listenAddress("listen", default: d.server.listen.description, allowEmpty: false)!,
            tokenFile: try s.absolutePath("token_file", default: d.server.tokenFile ?? "", allowEmpty: true),
            tlsCert: try s.absolutePath("tls_cert", default: "", allowEmpty: true),
            tlsKey: try s.absolutePath("tls_key", default: "", allowEmpty: true),
            maxConnections: try s.int("max_connections", default: d.server.maxConnections, range: maxConnectionsRange),
            idleTimeoutSeconds: try s.duration("idle_timeout", default: "120s", range: idleTimeoutRange),
            maxExtenderBody: try s.int("max_extender_body", default: d.server.maxExtenderBody, range: maxExtenderBodyRange),
            maxExtenderRequests: try s.int("max_extender_requests", default: d.server.maxExtenderRequests,
                                           range: maxExtenderRequestsRange))
        if (server.tlsCert == nil) != (server.tlsKey == nil) {
            let missing = server.tlsCert == nil ? "tls_cert" : "tls_key"
            throw s.error(missing, "must be set together with server.\(missing == "tls_cert" ? "tls_key" : "tls_cert")")
        }

        let rpc = try RPCConfig.read(try doc.section("rpc", keys: RPCConfig.keys), defaults: d.rpc)

        let sc = try doc.section("score", keys: ["weights", "normalisation", "bounds", "minmax_floor", "smoothing",
                                                  "recovery_smoothing", "hysteresis", "outlier_ratio", "outlier_min_gap"])
        var weights = d.score.weights
        if let w = try sc.subsection("weights", keys: signalNames) {
            for signal in ScoreSignal.allCases {
                weights[signal] = try w.number(signal.rawValue, default: weights[signal]!, rule: "≥ 0") { $0 >= 0 }
            }
            guard weights.values.reduce(0, +) > 0 else {
                throw ConfigError(file: file, key: "score.weights", reason: "at least one weight must be above 0")
            }
        }
        var bounds = d.score.bounds
        if let b = try sc.subsection("bounds", keys: signalNames) {
            for signal in ScoreSignal.allCases {
                if let v = b.raw(signal.rawValue) {
                    bounds[signal] = try signalBounds(v, section: b, key: signal.rawValue)
                }
            }
        }
        var floor = d.score.minmaxFloor
        if let f = try sc.subsection("minmax_floor", keys: signalNames) {
            for signal in ScoreSignal.allCases {
                floor[signal] = try f.number(signal.rawValue, default: floor[signal]!, rule: "≥ 0 (0 = the full range however narrow)") { $0 >= 0 }
            }
        }
        let score = Score(
            weights: weights,
            normalisation: try sc.choice("normalisation", default: d.score.normalisation),
            bounds: bounds,
            minmaxFloor: floor,
            smoothing: try sc.number("smoothing", default: d.score.smoothing, rule: "in (0, 1]") { $0 > 0 && $0 <= 1 },
            recoverySmoothing: try sc.number("recovery_smoothing", default: d.score.recoverySmoothing,
                                             rule: "in (0, 1]") { $0 > 0 && $0 <= 1 },
            hysteresis: try sc.number("hysteresis", default: d.score.hysteresis, rule: "in [0, 1]") { $0 >= 0 && $0 <= 1 },
            outlierRatio: try sc.number("outlier_ratio", default: d.score.outlierRatio,
                                        rule: "0 (off) or in [1.5, 1000]") { $0 == 0 || ($0 >= 1.5 && $0 <= 1000) },
            outlierMinGapMs: try sc.duration("outlier_min_gap", default: DurationParser.format(seconds: d.score.outlierMinGapMs / 1000),
                                             range: 0...60) * 1000)

        let r = try doc.section("registry", keys: ["stale_after", "stale_policy", "max_nodes", "unknown_policy", "panic_threshold",
                                                    "state_file", "save_interval", "ready_share", "warmup",
                                                    "max_peers", "max_drop_reasons"])
        let dr = d.registry
        let registry = Registry(
            staleAfterSeconds: try r.duration("stale_after", default: "15s", range: staleAfterRange),
            stalePolicy: try r.choice("stale_policy", default: dr.stalePolicy),
            maxNodes: try r.int("max_nodes", default: dr.maxNodes, range: maxNodesRange),
            unknownPolicy: try r.choice("unknown_policy", default: dr.unknownPolicy),
            panicThreshold: try r.number("panic_threshold", default: dr.panicThreshold, rule: "in [0, 1] (0 = never)") { $0 >= 0 && $0 <= 1 },
            stateFile: try r.absolutePath("state_file", default: dr.stateFile ?? "", allowEmpty: true),
            saveIntervalSeconds: try r.duration("save_interval", default: "30s", range: 1...3600),
            readyShare: try r.number("ready_share", default: dr.readyShare, rule: "in [0, 1]") { $0 >= 0 && $0 <= 1 },
            warmupSeconds: try r.duration("warmup", default: "75s", range: 0...3600),
            maxPeers: try r.int("max_peers", default: dr.maxPeers, range: maxPeersRange),
            maxDropReasons: try r.int("max_drop_reasons", default: dr.maxDropReasons, range: maxDropReasonsRange))

        let f = try doc.section("filter", keys: TelemetrySignal.filterable.map { $0.filter!.key })
        var filter = Filter()
        for signal in TelemetrySignal.filterable {
            let role = signal.filter!
            let rule = role.maximum.map { "in [0, \($0)] (0 = no limit)" } ?? "≥ 0 (0 = no limit)"
            let v = try f.number(role.key, default: 0, rule: rule) { $0 >= 0 && $0 <= (role.maximum ?? .infinity) }
            if v != 0 { filter[signal] = v }
        }

        let source = try readSource(try doc.section("source", keys: sourceKeys), staleAfter: registry.staleAfterSeconds)

        let damping = try readDamping(try doc.section("damping", keys: ["penalty", "half_life", "suppress", "reuse", "max_suppress"]))

        let config = ControllerConfig(server: server, rpc: rpc, score: score, registry: registry, filter: filter,
                                      source: source, damping: damping)
        try config.validateForStart(file: file) // StartupChecks.swift: the daemon runs the same rules
        return config
    }

    /// [damping]; `reuse` must be below `suppress` (the hysteresis between the two is the point).
    private static func readDamping(_ s: ConfigSection) throws -> Damping {
        let d = defaultDamping
        let damping = Damping(
            penalty: try s.number("penalty", default: d.penalty, rule: "≥ 0 (0 = no damping)") { $0 >= 0 },
            halfLifeSeconds: try s.duration("half_life", default: "1m", range: 1...86400),
            suppress: try s.number("suppress", default: d.suppress, rule: "> 0") { $0 > 0 },
            reuse: try s.number("reuse", default: d.reuse, rule: "> 0") { $0 > 0 },
            maxSuppressSeconds: try s.duration("max_suppress", default: "10m", range: 1...86400))
        guard damping.reuse < damping.suppress else {
            throw s.error("reuse", "must be below damping.suppress (\(damping.suppress)), got \(damping.reuse)")
        }
        // The ceiling must be able to reach `suppress`, or a node could never be suppressed.
        guard damping.ceiling > damping.suppress else {
            throw s.error("max_suppress", "too short for damping.half_life: the penalty ceiling reuse·2^(max_suppress/half_life) = "
                + "\(TOMLText.number(damping.ceiling)) must be above damping.suppress (\(damping.suppress))")
        }
        return damping
    }

    /// score.bounds.<signal> = [lo, hi] with lo < hi.
    private static func signalBounds(_ v: TOMLValueConvertible, section: ConfigSection, key: String) throws -> SignalBounds {
        let expected = "expected [lo, hi] with two numbers, lo < hi"
        guard let array = v.array else { throw section.error(key, "\(expected), got \(describe(v))") }
        guard array.count == 2 else { throw section.error(key, "\(expected), got \(array.count) elements") }
        let lo = try ConfigSection.number(array[0], key: section.dotted(key), file: section.file)
        let hi = try ConfigSection.number(array[1], key: section.dotted(key), file: section.file)
        guard lo < hi else { throw section.error(key, "\(expected), got [\(lo), \(hi)]") }
        return SignalBounds(lo: lo, hi: hi)
    }

    /// The configuration as TOML text that `parse` reads back to an equal value.
    public var tomlText: String {
        var t = TOMLText()
        t.section("server")
        t.string("listen", server.listen.description)
        t.string("token_file", server.tokenFile ?? "")
        t.string("tls_cert", server.tlsCert ?? "")
        t.string("tls_key", server.tlsKey ?? "")
        t.int("max_connections", server.maxConnections)
        t.duration("idle_timeout", server.idleTimeoutSeconds)
        t.int("max_extender_body", server.maxExtenderBody)
        t.int("max_extender_requests", server.maxExtenderRequests)

        rpc.write(to: &t)

        t.section("score")
        t.string("normalisation", score.normalisation.rawValue)
        t.number("smoothing", score.smoothing)
        t.number("recovery_smoothing", score.recoverySmoothing)
        t.number("hysteresis", score.hysteresis)
        t.number("outlier_ratio", score.outlierRatio)
        t.duration("outlier_min_gap", score.outlierMinGapMs / 1000)
        t.section("score.weights")
        for signal in ScoreSignal.allCases {
            t.number(signal.rawValue, score.weights[signal] ?? 0)
        }
        t.section("score.bounds")
        for signal in ScoreSignal.allCases {
            let b = score.bounds[signal]!
            t.key(signal.rawValue, "[\(TOMLText.number(b.lo)), \(TOMLText.number(b.hi))]")
        }
        t.section("score.minmax_floor")
        for signal in ScoreSignal.allCases {
            t.number(signal.rawValue, score.minmaxFloor[signal] ?? 0)
        }

        t.section("registry")
        t.duration("stale_after", registry.staleAfterSeconds)
        t.string("stale_policy", registry.stalePolicy.rawValue)
        t.int("max_nodes", registry.maxNodes)
        t.string("unknown_policy", registry.unknownPolicy.rawValue)
        t.number("panic_threshold", registry.panicThreshold)
        t.string("state_file", registry.stateFile ?? "")
        t.duration("save_interval", registry.saveIntervalSeconds)
        t.number("ready_share", registry.readyShare)
        t.duration("warmup", registry.warmupSeconds)
        t.int("max_peers", registry.maxPeers)
        t.int("max_drop_reasons", registry.maxDropReasons)

        t.section("filter")
        for signal in TelemetrySignal.filterable { t.number(signal.filter!.key, filter[signal] ?? 0) }

        writeSource(to: &t)

        t.section("damping")
        t.number("penalty", damping.penalty)
        t.duration("half_life", damping.halfLifeSeconds)
        t.number("suppress", damping.suppress)
        t.number("reuse", damping.reuse)
        t.duration("max_suppress", damping.maxSuppressSeconds)
        return t.text
    }
}
