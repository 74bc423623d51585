import CMnl

/// `htb` root qdisc options: which class unclassified traffic goes to.
public struct HTBOptions: Equatable, Codable, Sendable {
    public static let kind = "htb"
    /// TCA_HTB_INIT version field the kernel expects (HTB_VER >> 16).
    static let protocolVersion: UInt32 = 3

    /// Minor number of the default class (`default 10` → 0x10 in tc's hex notation).
    public var defaultClass: UInt16
    /// Rate-to-quantum divisor (tc's r2q, default 10).
    public var rateToQuantum: UInt32
    /// TCA_HTB_DIRECT_QLEN: queue length for unclassified packets when there is no default class.
    public var directQueueLength: UInt32?

    public init(defaultClass: UInt16, rateToQuantum: UInt32 = 10, directQueueLength: UInt32? = nil) {
        self.defaultClass = defaultClass
        self.rateToQuantum = rateToQuantum
        self.directQueueLength = directQueueLength
    }

    func encode(into request: NetlinkRequest) {
        var global = tc_htb_glob()
        global.version = Self.protocolVersion
        global.rate2quantum = rateToQuantum
        global.defcls = UInt32(defaultClass)
        request.put(UInt16(TCA_HTB_INIT), value: global)
        if let directQueueLength { request.put(UInt16(TCA_HTB_DIRECT_QLEN), u32: directQueueLength) }
    }

    init(attributes: [NetlinkAttribute]) throws {
        guard let initAttribute = attributes.attribute(UInt16(TCA_HTB_INIT)) else {
            throw NetlinkParseError("htb options", "no TCA_HTB_INIT")
        }
        let global = try initAttribute.value(tc_htb_glob.self, "TCA_HTB_INIT")
        defaultClass = UInt16(truncatingIfNeeded: global.defcls)
        rateToQuantum = global.rate2quantum
        directQueueLength = try attributes.attribute(UInt16(TCA_HTB_DIRECT_QLEN))?.u32("TCA_HTB_DIRECT_QLEN")
    }

    /// The options in tc's words (`tc qdisc show`; the default class in tc's hex).
    public var tcWords: String {
        var text = "default \(String(defaultClass, radix: 16)) r2q \(rateToQuantum)"
        if let directQueueLength { text += " direct_qlen \(directQueueLength)" }
        return text
    }
}

/// An `htb` class: guaranteed `rate`, borrowable up to `ceil` (bytes per second), with bucket
/// sizes `burst`/`cburst` in bytes (sent as scheduler ticks in TCA_HTB_PARMS).
public struct HTBClassOptions: Equatable, Codable, Sendable {
    public var rate: UInt64
    public var ceil: UInt64
    public var burst: UInt32
    public var cburst: UInt32
    public var priority: UInt32
    /// Bytes per DRR round; 0 lets the kernel derive it from rate / r2q.
    public var quantum: UInt32

    /// Default bucket of 1600 bytes: one full Ethernet frame plus headroom, the same floor tc
    /// uses when the rate/HZ term is negligible (high-resolution timers).
    public init(rate: UInt64, ceil: UInt64? = nil, burst: UInt32 = 1600, cburst: UInt32 = 1600,
                priority: UInt32 = 0, quantum: UInt32 = 0) {
        self.rate = rate
        self.ceil = ceil ?? rate
        self.burst = burst
        self.cburst = cburst
        self.priority = priority
        self.quantum = quantum
    }

    func validate() throws {
        guard rate > 0, ceil > 0 else { throw NetlinkRequestError("htb class rate and ceil must be > 0 bytes/s") }
        guard ceil >= rate else { throw NetlinkRequestError("htb class ceil (\(ceil)) is below its rate (\(rate))") }
        guard priority <= 7 else { throw NetlinkRequestError("htb class prio \(priority) out of range 0…7") }
    }

    func encode(into request: NetlinkRequest, clock: PacketSchedulerClock) {
        var parameters = tc_htb_opt()
        parameters.rate = rateSpec(bytesPerSecond: rate)
        parameters.ceil = rateSpec(bytesPerSecond: ceil)
        parameters.buffer = clock.ticks(toSend: UInt64(burst), atBytesPerSecond: rate)
        parameters.cbuffer = clock.ticks(toSend: UInt64(cburst), atBytesPerSecond: ceil)
        parameters.quantum = quantum
        parameters.prio = priority
        request.put(UInt16(TCA_HTB_PARMS), value: parameters)
        if rate >= UInt64(UInt32.max) { request.put(UInt16(TCA_HTB_RATE64), u64: rate) }
        if ceil >= UInt64(UInt32.max) { request.put(UInt16(TCA_HTB_CEIL64), u64: ceil) }
    }

    init(attributes: [NetlinkAttribute], clock: PacketSchedulerClock) throws {
        guard let parametersAttribute = attributes.attribute(UInt16(TCA_HTB_PARMS)) else {
            throw NetlinkParseError("htb class options", "no TCA_HTB_PARMS")
        }
        let parameters = try parametersAttribute.value(tc_htb_opt.self, "TCA_HTB_PARMS")
        rate = try attributes.attribute(UInt16(TCA_HTB_RATE64))?.u64("TCA_HTB_RATE64") ?? UInt64(parameters.rate.rate)
        ceil = try attributes.attribute(UInt16(TCA_HTB_CEIL64))?.u64("TCA_HTB_CEIL64") ?? UInt64(parameters.ceil.rate)
        burst = UInt32(clamping: clock.bytes(in: parameters.buffer, atBytesPerSecond: rate))
        cburst = UInt32(clamping: clock.bytes(in: parameters.cbuffer, atBytesPerSecond: ceil))
        priority = parameters.prio
        quantum = parameters.quantum
    }
}
