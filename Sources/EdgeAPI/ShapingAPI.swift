// Wire types of the agent's shaping methods (`shaping.*`, `qdisc.show`), shared by edge-agent
// and edgectl. Rates and durations travel as text in the forms operators type ("50M",
// "20mbit", "40ms"); the agent parses and validates them, so every client gets the same errors.
import EdgeCore

/// `shaping.set`: limit the egress of `selector` to `rate`.
public struct ShapingSetParams: Codable, Sendable, Equatable {
    /// A source address or CIDR ("10.0.0.5", "10.1.0.0/16", "fd00::/64"), `cgroup:/sys/fs/cgroup/…`
    /// (a cgroup2 directory) or `unit:NAME.service` (a systemd unit's cgroup).
    public var selector: String
    /// Any form `BandwidthRate(parsing:)` accepts: "50M", "50mbit", "1.5Gbit", "10Mi".
    public var rate: String
    /// Drop horizon ("40ms"); absent: the configured horizon, or one derived from the rate.
    public var horizon: String?

    public init(selector: String, rate: String, horizon: String? = nil) {
        self.selector = selector
        self.rate = rate
        self.horizon = horizon
    }
}

/// `shaping.delete`: remove the class of `selector`.
public struct ShapingDeleteParams: Codable, Sendable, Equatable {
    public var selector: String
    public init(selector: String) { self.selector = selector }
}

/// One shaped class with its counters (cumulative since the class was created).
public struct ShapingClassInfo: Codable, Sendable, Equatable {
    /// The selector in canonical form ("10.1.0.0/16", "cgroup:/sys/fs/cgroup/unified/system.slice/x.service").
    public var selector: String
    /// "prefix" or "cgroup".
    public var kind: String
    public var classId: UInt32
    public var rate: BandwidthRate
    public var horizonSeconds: Double
    /// CE-marks ECT packets delayed by more than half the horizon.
    public var ecn: Bool
    /// Wire bytes and packets accepted, packets dropped past the horizon, packets CE-marked.
    public var bytes: UInt64
    public var packets: UInt64
    public var drops: UInt64
    public var ecnMarks: UInt64
    /// Who declared the class: "config" ([[shaping.class]]), "cni" (edgenode-bandwidth) or "rpc"
    /// (shaping.set). Absent from agents before this field existed.
    public var origin: String?

    public init(selector: String, kind: String, classId: UInt32, rate: BandwidthRate, horizonSeconds: Double,
                ecn: Bool, bytes: UInt64, packets: UInt64, drops: UInt64, ecnMarks: UInt64, origin: String? = nil) {
        self.origin = origin
        self.selector = selector
        self.kind = kind
        self.classId = classId
        self.rate = rate
        self.horizonSeconds = horizonSeconds
        self.ecn = ecn
        self.bytes = bytes
        self.packets = packets
        self.drops = drops
        self.ecnMarks = ecnMarks
    }
}

/// `shaping.list`: the shaper's state and every class.
public struct ShapingListResult: Codable, Sendable, Equatable {
    /// The shaped device, nil before setup found one.
    public var device: String?
    /// "active", "degraded (…)", "disabled", "reset" or "failed (…)".
    public var status: String
    public var classes: [ShapingClassInfo]

    public init(device: String?, status: String, classes: [ShapingClassInfo]) {
        self.device = device
        self.status = status
        self.classes = classes
    }
}

/// `shaping.delete` and `shaping.reset`: what was done, one line per action.
public struct ShapingChangeResult: Codable, Sendable, Equatable {
    public var actions: [String]
    public init(actions: [String]) { self.actions = actions }
}

/// `qdisc.show`.
public struct QdiscShowParams: Codable, Sendable, Equatable {
    public var device: String
    public init(device: String) { self.device = device }
}

/// A qdisc as `qdisc.show` reports it.
public struct QdiscShowEntry: Codable, Sendable, Equatable {
    public var kind: String
    /// tc notation: "1:", "root", "ffff:fff1".
    public var handle: String
    public var parent: String
    public var isRoot: Bool
    /// Options in tc-like words ("horizon 10000us flow_limit 100"), empty if none or unknown.
    public var options: String

    public init(kind: String, handle: String, parent: String, isRoot: Bool, options: String) {
        self.kind = kind
        self.handle = handle
        self.parent = parent
        self.isRoot = isRoot
        self.options = options
    }
}

/// A filter on a clsact hook as `qdisc.show` reports it.
public struct FilterShowEntry: Codable, Sendable, Equatable {
    /// "ingress" or "egress".
    public var hook: String
    public var kind: String
    public var priority: UInt16
    public var handle: UInt32
    public var bpfName: String?
    public var bpfProgramId: UInt32?
    public var directAction: Bool?
    /// True for the shaper's own EDT filter.
    public var isEdgenode: Bool

    public init(hook: String, kind: String, priority: UInt16, handle: UInt32, bpfName: String?,
                bpfProgramId: UInt32?, directAction: Bool?, isEdgenode: Bool) {
        self.hook = hook
        self.kind = kind
        self.priority = priority
        self.handle = handle
        self.bpfName = bpfName
        self.bpfProgramId = bpfProgramId
        self.directAction = directAction
        self.isEdgenode = isEdgenode
    }
}

/// `qdisc.show`: the qdiscs and clsact filters of one device.
public struct QdiscShowResult: Codable, Sendable, Equatable {
    public var device: String
    public var ifindex: Int32
    public var txQueues: UInt32
    public var qdiscs: [QdiscShowEntry]
    public var filters: [FilterShowEntry]

    public init(device: String, ifindex: Int32, txQueues: UInt32, qdiscs: [QdiscShowEntry], filters: [FilterShowEntry]) {
        self.device = device
        self.ifindex = ifindex
        self.txQueues = txQueues
        self.qdiscs = qdiscs
        self.filters = filters
    }
}

/// `shaping.pod.add`: shape a pod's egress (the edgenode-bandwidth CNI plugin's ADD). The class is
/// keyed by the container id; its addresses are classified on the pod's host-side veth, so the
/// class holds after masquerade.
public struct ShapingPodAddParams: Codable, Sendable, Equatable {
    public var containerId: String
    /// The pod's interface inside its namespace (CNI_IFNAME), part of the attachment's identity.
    public var ifname: String
    /// The host side of the pod's veth pair.
    public var hostInterface: String
    /// The pod's addresses ("10.22.0.5", "fd00::5"), without prefix lengths.
    public var addresses: [String]
    /// Any form `BandwidthRate(parsing:)` accepts; the plugin sends bits per second ("50000000").
    public var rate: String
    /// Optional drop horizon ("40ms").
    public var horizon: String?

    public init(containerId: String, ifname: String, hostInterface: String, addresses: [String], rate: String,
                horizon: String? = nil) {
        self.containerId = containerId
        self.ifname = ifname
        self.hostInterface = hostInterface
        self.addresses = addresses
        self.rate = rate
        self.horizon = horizon
    }
}

/// `shaping.pod.delete` and `shaping.pod.check`: the pod's attachment.
public struct ShapingPodRef: Codable, Sendable, Equatable {
    public var containerId: String
    public var ifname: String
    public init(containerId: String, ifname: String) {
        self.containerId = containerId
        self.ifname = ifname
    }
}

/// `shaping.pod.add` / `shaping.pod.check`: the pod's class as the agent keeps it.
public struct ShapingPodResult: Codable, Sendable, Equatable {
    public var containerId: String
    public var ifname: String
    public var hostInterface: String
    public var addresses: [String]
    public var classId: UInt32
    public var rate: BandwidthRate
    /// True when the classifier runs on the host-side veth.
    public var classifierAttached: Bool

    public init(containerId: String, ifname: String, hostInterface: String, addresses: [String], classId: UInt32,
                rate: BandwidthRate, classifierAttached: Bool) {
        self.containerId = containerId
        self.ifname = ifname
        self.hostInterface = hostInterface
        self.addresses = addresses
        self.classId = classId
        self.rate = rate
        self.classifierAttached = classifierAttached
    }
}
