// The shaper's settings (from the agent's config) and what one setup reports.
import EdgeConfig
import EdgeCore

/// Where and how to shape; from `[shaping]` and `[agent] state_dir`.
public struct ShaperSettings: Sendable, Equatable {
    /// Egress device; nil = the default route's device.
    public var device: String?
    /// Horizon for classes set without one; nil = derived from each class's rate.
    public var horizonSeconds: Double?
    /// CE-mark ECT packets before dropping.
    public var ecn: Bool
    /// bpffs directory for the pinned maps and program.
    public var pinPath: String
    /// Where the recorded qdiscs and ownership notes are kept.
    public var stateDirectory: String
    /// TCP congestion control for the host while shaping is active (`bbr`); nil leaves it alone.
    public var hostCongestionControl: String?
    public var routeTable = "/proc/net/route"
    public var mountInfo = "/proc/self/mountinfo"
    /// Where net.ipv4.* lives (for the agent: its own network namespace's values).
    public var sysctlDirectory = "/proc/sys/net/ipv4"
    /// skb->mark bits for pod classes (veth classifier → uplink), `[shaping] mark_mask`.
    public var markMask: UInt32 = AgentConfig.Shaping.defaultMarkMask

    public init(device: String?, horizonSeconds: Double?, ecn: Bool, pinPath: String, stateDirectory: String,
                hostCongestionControl: String? = nil) {
        self.device = device
        self.horizonSeconds = horizonSeconds
        self.ecn = ecn
        self.pinPath = pinPath
        self.stateDirectory = stateDirectory
        self.hostCongestionControl = hostCongestionControl
    }

    public init(config: AgentConfig) {
        self.init(device: config.shaping.device, horizonSeconds: config.shaping.horizonSeconds,
                  ecn: config.shaping.ecn, pinPath: config.shaping.pinPath, stateDirectory: config.agent.stateDir,
                  hostCongestionControl: config.shaping.hostCongestionControl)
        markMask = config.shaping.markMask
    }
}

/// What one setup() found and did.
public struct ShaperSetupReport: Sendable, Equatable {
    public var device: String
    /// The status line: "active", "active (single root fq: …)" or "degraded (sch_fq unavailable: …)",
    /// followed by "; host TCP congestion control not changed: …" when that failed.
    public var status: String
    /// What happened to the root qdisc ("unchanged", "mq with fq on 4 TX queues", …).
    public var qdiscAction: String
    /// False when the filter already ran our program (nothing was sent).
    public var filterChanged: Bool
    /// Id of the program the filter runs.
    public var programId: UInt32
    /// True when the pinned program was reused.
    public var programAdopted: Bool
    /// Maps that were pinned already and were adopted with their classes.
    public var adoptedMaps: [String]
    public var classes: Int
    public var mountedBPFFS: Bool
    public var clsactCreated: Bool
    /// The host's TCP congestion control after setup, when the config asks for one.
    public var hostCongestionControl: String?
}
