// The agent's view of one node over its sliding window: what `telemetry.get` returns,
// what `/metrics` exports and what the agent pushes to the controller.
//
// Units are in the names. A signal with no samples in the window is nil ("absent"), never 0,
// so that the controller can tell "quiet" from "perfect".
import Foundation

public struct PeerRTT: Codable, Sendable, Equatable {
    /// Remote address as text (IPv4 dotted quad or IPv6).
    public var address: String
    public var rttP50Ms: Double?
    public var rttP99Ms: Double?
    /// RTT samples from this peer in the window.
    public var samples: UInt64

    public init(address: String, rttP50Ms: Double?, rttP99Ms: Double?, samples: UInt64) {
        self.address = address
        self.rttP50Ms = rttP50Ms
        self.rttP99Ms = rttP99Ms
        self.samples = samples
    }
}

public struct DropReasonStat: Codable, Sendable, Equatable {
    /// Kernel name without the SKB_DROP_REASON_ prefix, e.g. "NO_SOCKET".
    public var reason: String
    /// Drops with this reason in the window.
    public var count: UInt64
    /// Drops per second over the window.
    public var ratePerSecond: Double
    /// Weight from config applied to this reason in `dropRateWeighted`.
    public var weight: Double

    public init(reason: String, count: UInt64, ratePerSecond: Double, weight: Double) {
        self.reason = reason
        self.count = count
        self.ratePerSecond = ratePerSecond
        self.weight = weight
    }
}

public struct TelemetryWindow: Codable, Sendable, Equatable {
    /// Node name (config `agent.node_name`, default the host name).
    public var node: String
    /// Agent version string.
    public var agentVersion: String
    /// Unix time (seconds) when the window was computed.
    public var generatedAt: Double
    /// Seconds actually covered by the window (less than the configured window just after start).
    public var windowSeconds: Double

    public var rttP50Ms: Double?
    public var rttP99Ms: Double?
    public var rttSamples: UInt64

    /// retransmits / segmentsOut over the window; nil when no segment was sent.
    public var retransRate: Double?
    public var retransmits: UInt64
    public var segmentsOut: UInt64

    /// Dropped packets per second (all reasons except SKB_CONSUMED).
    public var dropRate: Double
    /// Σ weight(reason) · rate(reason).
    public var dropRateWeighted: Double
    public var drops: [DropReasonStat]

    public var runqlatP95Ms: Double?
    public var runqlatSamples: UInt64

    /// CPU utilisation in [0, 1] over the window.
    public var cpuUtilization: Double?

    /// Per remote peer RTT, busiest first.
    public var peers: [PeerRTT]

    public init(node: String, agentVersion: String, generatedAt: Double, windowSeconds: Double,
                rttP50Ms: Double? = nil, rttP99Ms: Double? = nil, rttSamples: UInt64 = 0,
                retransRate: Double? = nil, retransmits: UInt64 = 0, segmentsOut: UInt64 = 0,
                dropRate: Double = 0, dropRateWeighted: Double = 0, drops: [DropReasonStat] = [],
                runqlatP95Ms: Double? = nil, runqlatSamples: UInt64 = 0,
                cpuUtilization: Double? = nil, peers: [PeerRTT] = []) {
        self.node = node
        self.agentVersion = agentVersion
        self.generatedAt = generatedAt
        self.windowSeconds = windowSeconds
        self.rttP50Ms = rttP50Ms
        self.rttP99Ms = rttP99Ms
        self.rttSamples = rttSamples
        self.retransRate = retransRate
        self.retransmits = retransmits
        self.segmentsOut = segmentsOut
        self.dropRate = dropRate
        self.dropRateWeighted = dropRateWeighted
        self.drops = drops
        self.runqlatP95Ms = runqlatP95Ms
        self.runqlatSamples = runqlatSamples
        self.cpuUtilization = cpuUtilization
        self.peers = peers
    }
}
