import CMnl

/// `tbf` (token bucket filter) options, in bytes and bytes per second.
///
/// Built without a rate table, as the kernel has allowed since 3.13: TCA_TBF_PARMS carries the
/// rate (link layer Ethernet), queue limit and bucket size as time (`buffer`, in scheduler
/// ticks); TCA_TBF_BURST carries the bucket size in bytes; TCA_TBF_RATE64 the rate when it does
/// not fit 32 bits.
public struct TBFOptions: Equatable, Codable, Sendable {
    public static let kind = "tbf"

    /// Token rate, bytes per second.
    public var rate: UInt64
    /// Bucket size, bytes (at least one MTU, or full-size packets are dropped).
    public var burst: UInt32
    /// Bytes that may wait in the queue.
    public var limit: UInt32

    public init(rate: UInt64, burst: UInt32, limit: UInt32) {
        self.rate = rate
        self.burst = burst
        self.limit = limit
    }

    func validate() throws {
        guard rate > 0 else { throw NetlinkRequestError("tbf rate must be > 0 bytes/s") }
        guard burst > 0 else { throw NetlinkRequestError("tbf burst must be > 0 bytes") }
    }

    func encode(into request: NetlinkRequest, clock: PacketSchedulerClock) {
        var parameters = tc_tbf_qopt()
        parameters.rate = rateSpec(bytesPerSecond: rate)
        parameters.limit = limit
        parameters.buffer = clock.ticks(toSend: UInt64(burst), atBytesPerSecond: rate)
        request.put(UInt16(TCA_TBF_PARMS), value: parameters)
        request.put(UInt16(TCA_TBF_BURST), u32: burst)
        if rate >= UInt64(UInt32.max) { request.put(UInt16(TCA_TBF_RATE64), u64: rate) }
    }

    /// Decodes a dump. The kernel reports the bucket only as time, so `burst` is recomputed
    /// from it (exact to within a byte).
    init(attributes: [NetlinkAttribute], clock: PacketSchedulerClock) throws {
        guard let parametersAttribute = attributes.attribute(UInt16(TCA_TBF_PARMS)) else {
            throw NetlinkParseError("tbf options", "no TCA_TBF_PARMS")
        }
        let parameters = try parametersAttribute.value(tc_tbf_qopt.self, "TCA_TBF_PARMS")
        var rate = UInt64(parameters.rate.rate)
        if let rate64 = attributes.attribute(UInt16(TCA_TBF_RATE64)) { rate = try rate64.u64("TCA_TBF_RATE64") }
        self.rate = rate
        limit = parameters.limit
        if let burst = attributes.attribute(UInt16(TCA_TBF_BURST)) {
            self.burst = try burst.u32("TCA_TBF_BURST")
        } else {
            burst = UInt32(clamping: clock.bytes(in: parameters.buffer, atBytesPerSecond: rate))
        }
    }

    /// The options in tc's words and units (`tc qdisc show`).
    public var tcWords: String { "rate \(rate * 8)bit burst \(burst)b limit \(limit)b" }
}
