import CMnl

/// `fq` (sch_fq) options: the TCA_FQ_* attributes of linux/pkt_sched.h. `nil` means "not sent"
/// (kernel default) when adding, and "do not care" when matching a wish against what is there.
/// Times follow the UAPI: the kernel takes horizon and ce_threshold in microseconds.
public struct FQOptions: Equatable, Codable, Sendable {
    public static let kind = "fq"

    /// TCA_FQ_PLIMIT: packets in the whole qdisc.
    public var limit: UInt32?
    /// TCA_FQ_FLOW_PLIMIT: packets per flow.
    public var flowLimit: UInt32?
    /// TCA_FQ_QUANTUM: bytes per round-robin turn.
    public var quantum: UInt32?
    /// TCA_FQ_INITIAL_QUANTUM: bytes a new flow may send at once.
    public var initialQuantum: UInt32?
    /// TCA_FQ_FLOW_MAX_RATE: per-flow pacing cap in bytes/s (`UInt32.max` = unlimited).
    public var maxRate: UInt32?
    /// TCA_FQ_LOW_RATE_THRESHOLD: below this rate (bytes/s) flows are paced per packet.
    public var lowRateThreshold: UInt32?
    /// TCA_FQ_CE_THRESHOLD: CE-mark packets delayed longer than this (µs).
    public var ceThresholdMicroseconds: UInt32?
    /// TCA_FQ_HORIZON: packets timestamped further in the future than this (µs) are dropped
    /// or capped — what bounds EDT timestamps.
    public var horizonMicroseconds: UInt32?
    /// TCA_FQ_HORIZON_DROP: true drops packets beyond the horizon, false caps their time.
    public var horizonDrop: Bool?

    public init(limit: UInt32? = nil, flowLimit: UInt32? = nil, quantum: UInt32? = nil,
                initialQuantum: UInt32? = nil, maxRate: UInt32? = nil, lowRateThreshold: UInt32? = nil,
                ceThresholdMicroseconds: UInt32? = nil, horizonMicroseconds: UInt32? = nil,
                horizonDrop: Bool? = nil) {
        self.limit = limit
        self.flowLimit = flowLimit
        self.quantum = quantum
        self.initialQuantum = initialQuantum
        self.maxRate = maxRate
        self.lowRateThreshold = lowRateThreshold
        self.ceThresholdMicroseconds = ceThresholdMicroseconds
        self.horizonMicroseconds = horizonMicroseconds
        self.horizonDrop = horizonDrop
    }

    /// Rejects values the kernel would refuse with a less helpful message.
    func validate() throws {
        if limit == 0 { throw NetlinkRequestError("fq limit must be at least 1 packet") }
        if flowLimit == 0 { throw NetlinkRequestError("fq flow_limit must be at least 1 packet") }
        if let quantum, quantum == 0 || quantum > (1 << 20) {
            throw NetlinkRequestError("fq quantum \(quantum) out of range 1…1048576 bytes")
        }
    }

    /// Attributes in TCA_FQ_* order.
    func encode(into request: NetlinkRequest) {
        if let limit { request.put(UInt16(TCA_FQ_PLIMIT), u32: limit) }
        if let flowLimit { request.put(UInt16(TCA_FQ_FLOW_PLIMIT), u32: flowLimit) }
        if let quantum { request.put(UInt16(TCA_FQ_QUANTUM), u32: quantum) }
        if let initialQuantum { request.put(UInt16(TCA_FQ_INITIAL_QUANTUM), u32: initialQuantum) }
        if let maxRate { request.put(UInt16(TCA_FQ_FLOW_MAX_RATE), u32: maxRate) }
        if let lowRateThreshold { request.put(UInt16(TCA_FQ_LOW_RATE_THRESHOLD), u32: lowRateThreshold) }
        if let ceThresholdMicroseconds { request.put(UInt16(TCA_FQ_CE_THRESHOLD), u32: ceThresholdMicroseconds) }
        if let horizonMicroseconds { request.put(UInt16(TCA_FQ_HORIZON), u32: horizonMicroseconds) }
        if let horizonDrop { request.put(UInt16(TCA_FQ_HORIZON_DROP), u8: horizonDrop ? 1 : 0) }
    }

    /// Decodes a dump; unknown attributes (newer kernels add some) are skipped.
    init(attributes: [NetlinkAttribute]) throws {
        self.init()
        for attribute in attributes {
            switch Int(attribute.type) {
            case Int(TCA_FQ_PLIMIT): limit = try attribute.u32("TCA_FQ_PLIMIT")
            case Int(TCA_FQ_FLOW_PLIMIT): flowLimit = try attribute.u32("TCA_FQ_FLOW_PLIMIT")
            case Int(TCA_FQ_QUANTUM): quantum = try attribute.u32("TCA_FQ_QUANTUM")
            case Int(TCA_FQ_INITIAL_QUANTUM): initialQuantum = try attribute.u32("TCA_FQ_INITIAL_QUANTUM")
            case Int(TCA_FQ_FLOW_MAX_RATE): maxRate = try attribute.u32("TCA_FQ_FLOW_MAX_RATE")
            case Int(TCA_FQ_LOW_RATE_THRESHOLD): lowRateThreshold = try attribute.u32("TCA_FQ_LOW_RATE_THRESHOLD")
            case Int(TCA_FQ_CE_THRESHOLD): ceThresholdMicroseconds = try attribute.u32("TCA_FQ_CE_THRESHOLD")
            case Int(TCA_FQ_HORIZON): horizonMicroseconds = try attribute.u32("TCA_FQ_HORIZON")
            case Int(TCA_FQ_HORIZON_DROP): horizonDrop = try attribute.u8("TCA_FQ_HORIZON_DROP") != 0
            default: continue
            }
        }
    }

    /// True when every field set in `wish` has the same value here.
    public func satisfies(_ wish: FQOptions) -> Bool {
        func same<T: Equatable>(_ key: KeyPath<FQOptions, T?>) -> Bool {
            wish[keyPath: key] == nil || wish[keyPath: key] == self[keyPath: key]
        }
        return same(\.limit) && same(\.flowLimit) && same(\.quantum) && same(\.initialQuantum)
            && same(\.maxRate) && same(\.lowRateThreshold) && same(\.ceThresholdMicroseconds)
            && same(\.horizonMicroseconds) && same(\.horizonDrop)
    }

    /// The options in tc's words and units (`tc qdisc show`), set fields only.
    public var tcWords: String {
        var words: [String] = []
        func add(_ name: String, _ value: UInt32?, _ unit: String = "") {
            if let value { words.append("\(name) \(value)\(unit)") }
        }
        add("limit", limit)
        add("flow_limit", flowLimit)
        add("quantum", quantum)
        add("initial_quantum", initialQuantum)
        if let maxRate { words.append(maxRate == UInt32.max ? "maxrate unlimited" : "maxrate \(UInt64(maxRate) * 8)bit") }
        add("ce_threshold", ceThresholdMicroseconds, "us")
        add("horizon", horizonMicroseconds, "us")
        if let horizonDrop { words.append(horizonDrop ? "horizon_drop" : "horizon_cap") }
        return words.joined(separator: " ")
    }
}
