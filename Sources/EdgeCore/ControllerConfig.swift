// edge-controller's configuration file (/etc/edgenode/controller.toml). Same rules as the agent's:
// every key has a default, unknown keys and wrong types are errors, durations are Double seconds.
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

        public init(listen: ListenAddress, tokenFile: String?, tlsCert: String?, tlsKey: String?) {
            self.listen = listen
            self.tokenFile = tokenFile
            self.tlsCert = tlsCert
            self.tlsKey = tlsKey
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

        /// Default `minmaxFloor`: 1 ms of RTT or run-queue latency, 0.5 % retransmits, 1 weighted
        /// drop per second, 10 % CPU.
        public static let defaultMinmaxFloor: [ScoreSignal: Double] = [.rttP99: 1, .retrans: 0.005, .dropWeighted: 1,
                                                                       .runqlatP95: 1, .cpu: 0.1]
        public init(weights: [ScoreSignal: Double], normalisation: ScoreNormalisation,
                    bounds: [ScoreSignal: SignalBounds], minmaxFloor: [ScoreSignal: Double] = defaultMinmaxFloor,
                    smoothing: Double, recoverySmoothing: Double? = nil, hysteresis: Double) {
            self.weights = weights
            self.normalisation = normalisation
            self.bounds = bounds
            self.minmaxFloor = minmaxFloor
            self.smoothing = smoothing
            self.recoverySmoothing = recoverySmoothing ?? smoothing
            self.hysteresis = hysteresis
        }
    }

    /// [registry]
    public struct Registry: Sendable, Equatable {
        /// Seconds after the last report at which a node's telemetry is stale.
        public var staleAfterSeconds: Double
        public var stalePolicy: StalePolicy
        /// Most nodes tracked.
        public var maxNodes: Int

        public init(staleAfterSeconds: Double, stalePolicy: StalePolicy, maxNodes: Int) {
            self.staleAfterSeconds = staleAfterSeconds
            self.stalePolicy = stalePolicy
            self.maxNodes = maxNodes
        }
    }

    /// [filter]: hard limits for the extender's /filter; nil = no limit.
    public struct Filter: Sendable, Equatable {
        public var maxRTTP99Ms: Double?
        public var maxRetransRate: Double?
        /// Drops per second.
        public var maxDropRate: Double?
        /// CPU utilisation in [0, 1].
        public var maxCPU: Double?

        public init(maxRTTP99Ms: Double?, maxRetransRate: Double?, maxDropRate: Double?, maxCPU: Double?) {
            self.maxRTTP99Ms = maxRTTP99Ms
            self.maxRetransRate = maxRetransRate
            self.maxDropRate = maxDropRate
            self.maxCPU = maxCPU
        }
    }

    public var server: Server
    public var rpc: RPCConfig
    public var score: Score
    public var registry: Registry
    public var filter: Filter
    /// [source]: pushes (the default) or a Prometheus server.
    public var source: Source

    public init(server: Server, rpc: RPCConfig, score: Score, registry: Registry, filter: Filter,
                source: Source = .push) {
        self.server = server
        self.rpc = rpc
        self.score = score
        self.registry = registry
        self.filter = filter
        self.source = source
    }

    /// The configuration of an empty file.
    public static let defaults = ControllerConfig(
        server: Server(listen: ListenAddress(host: "127.0.0.1", port: 8477), tokenFile: "/etc/edgenode/token",
                       tlsCert: nil, tlsKey: nil),
        rpc: RPCConfig(socket: "/run/edge-controller/controller.sock"),
        score: Score(
            weights: [.rttP99: 0.30, .retrans: 0.20, .dropWeighted: 0.20, .runqlatP95: 0.15, .cpu: 0.15],
            normalisation: .fixed,
            bounds: [.rttP99: SignalBounds(lo: 0, hi: 200), .retrans: SignalBounds(lo: 0, hi: 0.05),
                     .dropWeighted: SignalBounds(lo: 0, hi: 100), .runqlatP95: SignalBounds(lo: 0, hi: 20),
                     .cpu: SignalBounds(lo: 0, hi: 1)],
            smoothing: 0.3, recoverySmoothing: 0.05, hysteresis: 0.05),
        registry: Registry(staleAfterSeconds: 15, stalePolicy: .filter, maxNodes: 20000),
        filter: Filter(maxRTTP99Ms: nil, maxRetransRate: nil, maxDropRate: nil, maxCPU: nil))

    static let staleAfterRange = 1.0...3600.0
    static let maxNodesRange = 1...1_000_000
    static var signalNames: [String] { ScoreSignal.allCases.map(\.rawValue) }

    /// Reads and validates the file at `path`.
    public static func load(path: String) throws -> ControllerConfig {
        try parse(text: ConfigDocument.readText(path: path), file: path)
    }

    /// Parses and validates TOML text; `file` is used in error messages.
    public static func parse(text: String, file: String) throws -> ControllerConfig {
        let doc = try ConfigDocument(text: text, file: file)
        try doc.checkSections(["server", "rpc", "score", "registry", "filter", "source"])
        let d = defaults

        let s = try doc.section("server", keys: ["listen", "token_file", "tls_cert", "tls_key"])
        let server = Server(
            listen: try s.listenAddress("listen", default: d.server.listen.description, allowEmpty: false)!,
            tokenFile: try s.absolutePath("token_file", default: d.server.tokenFile ?? "", allowEmpty: true),
            tlsCert: try s.absolutePath("tls_cert", default: "", allowEmpty: true),
            tlsKey: try s.absolutePath("tls_key", default: "", allowEmpty: true))
        if (server.tlsCert == nil) != (server.tlsKey == nil) {
            let missing = server.tlsCert == nil ? "tls_cert" : "tls_key"
            throw s.error(missing, "must be set together with server.\(missing == "tls_cert" ? "tls_key" : "tls_cert")")
        }

        let rpc = try RPCConfig.read(try doc.section("rpc", keys: RPCConfig.keys), defaults: d.rpc)

        let sc = try doc.section("score", keys: ["weights", "normalisation", "bounds", "minmax_floor", "smoothing",
                                                  "recovery_smoothing", "hysteresis"])
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
            hysteresis: try sc.number("hysteresis", default: d.score.hysteresis, rule: "in [0, 1]") { $0 >= 0 && $0 <= 1 })

        let r = try doc.section("registry", keys: ["stale_after", "stale_policy", "max_nodes"])
        let registry = Registry(
            staleAfterSeconds: try r.duration("stale_after", default: "15s", range: staleAfterRange),
            stalePolicy: try r.choice("stale_policy", default: d.registry.stalePolicy),
            maxNodes: try r.int("max_nodes", default: d.registry.maxNodes, range: maxNodesRange))

        let f = try doc.section("filter", keys: ["max_rtt_p99_ms", "max_retrans_rate", "max_drop_rate", "max_cpu"])
        func limit(_ key: String, max: Double?) throws -> Double? {
            let rule = max.map { "in [0, \($0)] (0 = no limit)" } ?? "≥ 0 (0 = no limit)"
            let v = try f.number(key, default: 0, rule: rule) { $0 >= 0 && $0 <= (max ?? .infinity) }
            return v == 0 ? nil : v
        }
        let filter = Filter(
            maxRTTP99Ms: try limit("max_rtt_p99_ms", max: nil),
            maxRetransRate: try limit("max_retrans_rate", max: 1),
            maxDropRate: try limit("max_drop_rate", max: nil),
            maxCPU: try limit("max_cpu", max: 1))

        let source = try readSource(try doc.section("source", keys: sourceKeys), staleAfter: registry.staleAfterSeconds)

        let config = ControllerConfig(server: server, rpc: rpc, score: score, registry: registry, filter: filter,
                                      source: source)
        try config.validateForStart(file: file) // StartupChecks.swift: the daemon runs the same rules
        return config
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

        rpc.write(to: &t)

        t.section("score")
        t.string("normalisation", score.normalisation.rawValue)
        t.number("smoothing", score.smoothing)
        t.number("recovery_smoothing", score.recoverySmoothing)
        t.number("hysteresis", score.hysteresis)
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

        t.section("filter")
        t.number("max_rtt_p99_ms", filter.maxRTTP99Ms ?? 0)
        t.number("max_retrans_rate", filter.maxRetransRate ?? 0)
        t.number("max_drop_rate", filter.maxDropRate ?? 0)
        t.number("max_cpu", filter.maxCPU ?? 0)

        writeSource(to: &t)
        return t.text
    }
}
