// The agent's local API wire types, shared by edge-agent and edgectl (one module, as in
// Tailscale's LocalAPI): what `agent.status`, `telemetry.get` and `telemetry.reasons` carry.
import EdgeTelemetry

/// A telemetry program the running kernel does not offer or refused: it was switched off before
/// load. Where an older variant took over (`fallback`), the signal still moves, minus `loses`.
public struct MissingHook: Sendable, Equatable, Codable {
    public var program: String
    public var hook: String
    public var signal: String
    /// Why it is off: the hook is absent, the tracepoint passes fewer arguments, or the verifier's word.
    public var reason: String?
    /// The program that feeds `signal` instead, if any.
    public var fallback: String?
    /// What the fallback cannot measure (e.g. drop reasons).
    public var loses: String?

    public init(program: String, hook: String, signal: String, reason: String? = nil,
                fallback: String? = nil, loses: String? = nil) {
        self.program = program
        self.hook = hook
        self.signal = signal
        self.reason = reason
        self.fallback = fallback
        self.loses = loses
    }

    /// One line for logs and `edgectl status`.
    public var summary: String {
        var s = "\(program) (\(hook)) off"
        if let reason { s += ": \(reason)" }
        if let fallback {
            s += "; \(fallback) feeds \(signal) instead"
            if let loses { s += " without \(loses)" }
        } else {
            s += "; signal '\(signal)' stays absent"
        }
        return s
    }
}

public struct TelemetryGetParams: Codable, Sendable {
    /// Most peers to return (default: all the window holds).
    public var peers: Int?
    public init(peers: Int? = nil) { self.peers = peers }
}

public struct AgentStatus: Codable, Sendable, Equatable {
    public struct Telemetry: Codable, Sendable, Equatable {
        /// Programs attached to their hooks.
        public var attached: [String]
        /// Hooks this kernel lacks, and the signal that therefore stays absent.
        public var missing: [MissingHook]
        public var ticks: UInt64
        public var intervalSeconds: Double
        public var windowSeconds: Double
        /// "self" (the agent's network namespace) or "all".
        public var netns: String
        /// A source that failed on the last tick (e.g. /proc/net/snmp), if any.
        public var sourceError: String?

        public init(attached: [String], missing: [MissingHook], ticks: UInt64, intervalSeconds: Double,
                    windowSeconds: Double, netns: String, sourceError: String?) {
            self.attached = attached
            self.missing = missing
            self.ticks = ticks
            self.intervalSeconds = intervalSeconds
            self.windowSeconds = windowSeconds
            self.netns = netns
            self.sourceError = sourceError
        }
    }

    public var node: String
    public var version: String
    public var pid: Int32
    public var uptimeSeconds: Double
    public var socket: String
    public var metricsListen: String?
    public var telemetry: Telemetry
    /// "active", "disabled", or "degraded (reason)".
    public var shaping: String
    /// Controller push state: "off", "ok", or "failing (reason)".
    public var controller: String
    /// What the running kernel does with a pod's departure times (skb->tstamp) when its packets
    /// cross the veth into the host namespace, and what that means for BBR in pods. Absent from
    /// agents before this field existed.
    public var podTimestamps: String?

    public init(node: String, version: String, pid: Int32, uptimeSeconds: Double, socket: String,
                metricsListen: String?, telemetry: Telemetry, shaping: String, controller: String,
                podTimestamps: String? = nil) {
        self.podTimestamps = podTimestamps
        self.node = node
        self.version = version
        self.pid = pid
        self.uptimeSeconds = uptimeSeconds
        self.socket = socket
        self.metricsListen = metricsListen
        self.telemetry = telemetry
        self.shaping = shaping
        self.controller = controller
    }
}

/// One kfree_skb reason the kernel knows, and its weight in the weighted drop rate.
public struct DropReasonInfo: Codable, Sendable, Equatable {
    public var value: Int
    public var name: String
    public var weight: Double
    /// Drops with this reason in the current window.
    public var windowCount: UInt64

    public init(value: Int, name: String, weight: Double, windowCount: UInt64) {
        self.value = value
        self.name = name
        self.weight = weight
        self.windowCount = windowCount
    }
}

/// `telemetry.get`: the telemetry window, plus the shaper's classes with their counters when
/// shaping is running. On the wire it is the window's own object with one more key,
/// `"shaping"`, absent when shaping is off, so a client that decodes a plain `TelemetryWindow`
/// reads the same answer.
public struct AgentTelemetry: Codable, Sendable, Equatable {
    public var window: TelemetryWindow
    /// The shaped device, its status and every class with bytes, packets, drops and ECN marks
    /// (cumulative since the class was created); nil when shaping is disabled or not running.
    public var shaping: ShapingListResult?

    public init(window: TelemetryWindow, shaping: ShapingListResult?) {
        self.window = window
        self.shaping = shaping
    }

    private enum CodingKeys: String, CodingKey {
        case shaping
    }

    public init(from decoder: Decoder) throws {
        window = try TelemetryWindow(from: decoder)
        shaping = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(ShapingListResult.self, forKey: .shaping)
    }

    public func encode(to encoder: Encoder) throws {
        try window.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(shaping, forKey: .shaping)
    }
}
