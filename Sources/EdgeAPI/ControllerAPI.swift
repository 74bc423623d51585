// The controller's local API (JSON-RPC over its Unix socket): params and results, shared by the
// daemon and edgectl (the methods themselves are in RPCMethods.swift). Encoded with EdgeJSON (snake_case keys). Only Foundation,
// EdgeCore and EdgeTelemetry types are used, so edgectl needs no dependency on the controller itself.
//
// Node names are never used as JSON object keys here (EdgeJSON's key conversion would rewrite
// them): lists of `{node, …}` are used instead.
import EdgeCore
import EdgeTelemetry
import Foundation

/// `controller.status`.
public struct ControllerStatusResult: Codable, Sendable, Equatable {
    public var version: String
    public var uptimeSeconds: Double
    /// `host:port` the HTTP server listens on.
    public var listen: String
    public var tls: Bool
    /// False when no token file is configured (reports are then accepted from anyone).
    public var authentication: Bool
    public var nodesTotal: Int
    public var nodesFresh: Int
    public var nodesStale: Int
    public var reportsAccepted: UInt64
    public var normalisation: String
    public var stalePolicy: String
    public var staleAfterSeconds: Double
    public var smoothing: Double
    public var hysteresis: Double

    public init(version: String, uptimeSeconds: Double, listen: String, tls: Bool, authentication: Bool,
                nodesTotal: Int, nodesFresh: Int, nodesStale: Int, reportsAccepted: UInt64,
                normalisation: String, stalePolicy: String, staleAfterSeconds: Double, smoothing: Double, hysteresis: Double) {
        self.version = version
        self.uptimeSeconds = uptimeSeconds
        self.listen = listen
        self.tls = tls
        self.authentication = authentication
        self.nodesTotal = nodesTotal
        self.nodesFresh = nodesFresh
        self.nodesStale = nodesStale
        self.reportsAccepted = reportsAccepted
        self.normalisation = normalisation
        self.stalePolicy = stalePolicy
        self.staleAfterSeconds = staleAfterSeconds
        self.smoothing = smoothing
        self.hysteresis = hysteresis
    }
}

/// One row of `nodes.list`. The signal values are the catalogue's `inNodeList` signals, each
/// under its window JSON name (`rtt_p99_ms`), left out when absent.
public struct NodeSummary: Codable, Sendable, Equatable {
    public var node: String
    public var agentVersion: String
    public var lastSeenSecondsAgo: Double
    public var reportCount: UInt64
    public var stale: Bool
    /// Values of the node-list signals; an absent signal has no entry.
    public var signals: [TelemetrySignal: Double]
    /// Badness of the latest report, [0, 1].
    public var scoreRaw: Double
    /// EWMA of the badness.
    public var scoreSmoothed: Double
    /// What `/prioritize` returns for the node now (0 when stale).
    public var priority: Int

    public init(node: String, agentVersion: String, lastSeenSecondsAgo: Double, reportCount: UInt64, stale: Bool,
                signals: [TelemetrySignal: Double], scoreRaw: Double, scoreSmoothed: Double, priority: Int) {
        self.node = node
        self.agentVersion = agentVersion
        self.lastSeenSecondsAgo = lastSeenSecondsAgo
        self.reportCount = reportCount
        self.stale = stale
        self.signals = signals.filter { $0.key.inNodeList }
        self.scoreRaw = scoreRaw
        self.scoreSmoothed = scoreSmoothed
        self.priority = priority
    }

    /// The node-list signals of `window`.
    public static func signals(of window: TelemetryWindow) -> [TelemetrySignal: Double] {
        var out: [TelemetrySignal: Double] = [:]
        for s in TelemetrySignal.nodeList { if let v = s.value(in: window) { out[s] = v } }
        return out
    }

    /// A signal's value, nil when absent.
    public subscript(signal: TelemetrySignal) -> Double? { signals[signal] }

    // Coded by hand so that the signals are flat fields named by the catalogue. Fixed fields use
    // the camelCase Swift names, as synthesized coding would (EdgeJSON converts them to snake_case);
    // a signal is looked up under its JSON name and under the camelCase name a snake_case-converting
    // decoder turns it into.
    private struct Key: CodingKey {
        let stringValue: String
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        node = try c.decode(String.self, forKey: Key("node"))
        agentVersion = try c.decode(String.self, forKey: Key("agentVersion"))
        lastSeenSecondsAgo = try c.decode(Double.self, forKey: Key("lastSeenSecondsAgo"))
        reportCount = try c.decode(UInt64.self, forKey: Key("reportCount"))
        stale = try c.decode(Bool.self, forKey: Key("stale"))
        scoreRaw = try c.decode(Double.self, forKey: Key("scoreRaw"))
        scoreSmoothed = try c.decode(Double.self, forKey: Key("scoreSmoothed"))
        priority = try c.decode(Int.self, forKey: Key("priority"))
        signals = [:]
        for s in TelemetrySignal.nodeList {
            for name in [s.name, s.camelCaseName] {
                if let v = try c.decodeIfPresent(Double.self, forKey: Key(name)) {
                    signals[s] = v
                    break
                }
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(node, forKey: Key("node"))
        try c.encode(agentVersion, forKey: Key("agentVersion"))
        try c.encode(lastSeenSecondsAgo, forKey: Key("lastSeenSecondsAgo"))
        try c.encode(reportCount, forKey: Key("reportCount"))
        try c.encode(stale, forKey: Key("stale"))
        try c.encode(scoreRaw, forKey: Key("scoreRaw"))
        try c.encode(scoreSmoothed, forKey: Key("scoreSmoothed"))
        try c.encode(priority, forKey: Key("priority"))
        for s in TelemetrySignal.nodeList { try c.encodeIfPresent(signals[s], forKey: Key(s.name)) }
    }
}

/// `nodes.list`.
public struct NodesListResult: Codable, Sendable, Equatable {
    public var nodes: [NodeSummary]

    public init(nodes: [NodeSummary]) {
        self.nodes = nodes
    }
}

/// `score.get` params: one node or all; with the per-signal breakdown or not.
public struct ScoreGetParams: Codable, Sendable, Equatable {
    public var node: String?
    public var explain: Bool?

    public init(node: String? = nil, explain: Bool? = nil) {
        self.node = node
        self.explain = explain
    }
}

/// One signal's part in a node's score.
public struct ExplainedSignal: Codable, Sendable, Equatable {
    /// Config name of the signal (`rtt_p99`, `retrans`, …).
    public var signal: String
    public var unit: String
    /// Raw value; nil when absent.
    public var value: Double?
    /// Range the value was normalised over.
    public var lo: Double?
    public var hi: Double?
    public var normalised: Double?
    public var configuredWeight: Double
    /// Weight after renormalising over the present signals.
    public var weight: Double
    /// `weight · normalised`: this signal's share of the raw badness.
    public var contribution: Double
    /// No samples in the window: left out of the score.
    public var absent: Bool

    public init(signal: String, unit: String, value: Double?, lo: Double?, hi: Double?, normalised: Double?, configuredWeight: Double, weight: Double, contribution: Double, absent: Bool) {
        self.signal = signal
        self.unit = unit
        self.value = value
        self.lo = lo
        self.hi = hi
        self.normalised = normalised
        self.configuredWeight = configuredWeight
        self.weight = weight
        self.contribution = contribution
        self.absent = absent
    }
}

/// A node's score with how it came about.
public struct ScoreExplanation: Codable, Sendable, Equatable {
    public var node: String
    public var stale: Bool
    public var lastSeenSecondsAgo: Double
    /// Badness of the latest report, [0, 1].
    public var raw: Double
    /// EWMA of the badness.
    public var smoothed: Double
    /// The smoothed badness that set the published priority (hysteresis reference).
    public var anchor: Double
    /// Priority from smoothing + hysteresis.
    public var publishedPriority: Int
    /// What `/prioritize` returns now (0 when stale).
    public var priority: Int
    /// True when no weighted signal was present and the raw score is the neutral 0.5.
    public var neutral: Bool
    /// Per signal breakdown (only with `explain`).
    public var signals: [ExplainedSignal]?
    /// Plain-language remarks: absent signals, staleness, hysteresis holding the priority.
    public var notes: [String]
    /// Flap damping: the decayed penalty, whether the node is suppressed, and in how many seconds it
    /// is reused (nil when not suppressed). Optional so that older controllers' answers still decode.
    public var dampingPenalty: Double?
    public var suppressed: Bool?
    public var reuseInSeconds: Double?

    public init(node: String, stale: Bool, lastSeenSecondsAgo: Double, raw: Double, smoothed: Double, anchor: Double, publishedPriority: Int, priority: Int, neutral: Bool, signals: [ExplainedSignal]?, notes: [String],
                dampingPenalty: Double? = nil, suppressed: Bool? = nil, reuseInSeconds: Double? = nil) {
        self.dampingPenalty = dampingPenalty
        self.suppressed = suppressed
        self.reuseInSeconds = reuseInSeconds
        self.node = node
        self.stale = stale
        self.lastSeenSecondsAgo = lastSeenSecondsAgo
        self.raw = raw
        self.smoothed = smoothed
        self.anchor = anchor
        self.publishedPriority = publishedPriority
        self.priority = priority
        self.neutral = neutral
        self.signals = signals
        self.notes = notes
    }
}

/// `score.get`.
public struct ScoreGetResult: Codable, Sendable, Equatable {
    public var normalisation: String
    public var smoothing: Double
    public var hysteresis: Double
    public var scores: [ScoreExplanation]

    public init(normalisation: String, smoothing: Double, hysteresis: Double, scores: [ScoreExplanation]) {
        self.normalisation = normalisation
        self.smoothing = smoothing
        self.hysteresis = hysteresis
        self.scores = scores
    }
}

/// `extender.dryrun` params: the pod (a `v1.Pod` object) and the candidates (default: every known node).
public struct ExtenderDryRunParams: Codable, Sendable, Equatable {
    public var pod: JSONValue?
    public var nodeNames: [String]?

    public init(pod: JSONValue?, nodeNames: [String]?) {
        self.pod = pod
        self.nodeNames = nodeNames
    }
}

/// A node with the reason it was filtered.
public struct NodeReason: Codable, Sendable, Equatable {
    public var node: String
    public var reason: String

    public init(node: String, reason: String) {
        self.node = node
        self.reason = reason
    }
}

/// A node with its extender priority.
public struct NodePriority: Codable, Sendable, Equatable {
    public var node: String
    public var priority: Int

    public init(node: String, priority: Int) {
        self.node = node
        self.priority = priority
    }
}

/// `extender.dryrun`: what `/filter` and `/prioritize` would answer, decoded and verbatim.
public struct ExtenderDryRunResult: Codable, Sendable, Equatable {
    /// `namespace/name` of the pod.
    public var pod: String
    public var candidates: [String]
    public var passed: [String]
    public var failed: [NodeReason]
    public var failedAndUnresolvable: [NodeReason]
    /// Highest first.
    public var priorities: [NodePriority]
    /// The exact body `/filter` would return (PascalCase extender JSON).
    public var filterResponse: String
    /// The exact body `/prioritize` would return.
    public var prioritizeResponse: String

    public init(pod: String, candidates: [String], passed: [String], failed: [NodeReason], failedAndUnresolvable: [NodeReason], priorities: [NodePriority], filterResponse: String, prioritizeResponse: String) {
        self.pod = pod
        self.candidates = candidates
        self.passed = passed
        self.failed = failed
        self.failedAndUnresolvable = failedAndUnresolvable
        self.priorities = priorities
        self.filterResponse = filterResponse
        self.prioritizeResponse = prioritizeResponse
    }
}
