import CMnl

/// Typed options of a qdisc, one case per kind this module knows; anything else is kept as
/// the raw TCA_OPTIONS payload so it can be restored byte for byte.
public enum QdiscOptions: Equatable, Codable, Sendable {
    case mq
    case fq(FQOptions)
    case clsact
    case tbf(TBFOptions)
    case htb(HTBOptions)
    /// A kind this module does not model (noqueue, pfifo_fast, ...).
    case other(kind: String, raw: [UInt8])

    /// TCA_KIND.
    public var kind: String {
        switch self {
        case .mq: return MQQdisc.kind
        case .fq: return FQOptions.kind
        case .clsact: return ClsactQdisc.kind
        case .tbf: return TBFOptions.kind
        case .htb: return HTBOptions.kind
        case .other(let kind, _): return kind
        }
    }

    /// The options in tc's words, each kind printing its own (empty for kinds without options).
    public var tcWords: String {
        switch self {
        case .mq, .clsact: return ""
        case .fq(let options): return options.tcWords
        case .tbf(let options): return options.tcWords
        case .htb(let options): return options.tcWords
        case .other(_, let raw): return raw.isEmpty ? "" : "(\(raw.count) bytes of options)"
        }
    }

    /// Appends TCA_OPTIONS (if the kind has options).
    func encode(into request: NetlinkRequest, clock: PacketSchedulerClock) throws {
        switch self {
        case .mq, .clsact:
            break  // neither takes options
        case .fq(let options):
            try options.validate()
            request.nest(UInt16(TCA_OPTIONS)) { options.encode(into: $0) }
        case .tbf(let options):
            try options.validate()
            request.nest(UInt16(TCA_OPTIONS)) { options.encode(into: $0, clock: clock) }
        case .htb(let options):
            request.nest(UInt16(TCA_OPTIONS)) { options.encode(into: $0) }
        case .other(_, let raw):
            // Some kinds (pfifo, bfifo, prio) carry a bare struct here, not attributes, so the
            // bytes go back exactly as the kernel dumped them, without the nested flag.
            if !raw.isEmpty { request.put(UInt16(TCA_OPTIONS), bytes: raw) }
        }
    }

    /// Decodes TCA_OPTIONS of a dumped qdisc of `kind`.
    static func decode(kind: String, raw: [UInt8], clock: PacketSchedulerClock) throws -> QdiscOptions {
        let context = "\(kind) options"
        switch kind {
        case MQQdisc.kind: return .mq
        case ClsactQdisc.kind: return .clsact
        case FQOptions.kind: return .fq(try FQOptions(attributes: NetlinkAttribute.parse(raw, context: context)))
        case TBFOptions.kind:
            return .tbf(try TBFOptions(attributes: NetlinkAttribute.parse(raw, context: context), clock: clock))
        case HTBOptions.kind: return .htb(try HTBOptions(attributes: NetlinkAttribute.parse(raw, context: context)))
        default: return .other(kind: kind, raw: raw)
        }
    }
}

/// struct tc_ratespec for a rate given in bytes per second, without a rate table: the
/// link-layer field set to Ethernet tells the kernel (since 3.11) not to expect TCA_*_RTAB.
func rateSpec(bytesPerSecond: UInt64) -> tc_ratespec {
    var spec = tc_ratespec()
    spec.linklayer = UInt8(TC_LINKLAYER_ETHERNET.rawValue)
    // Rates that do not fit 32 bits are sent in a separate *_RATE64 attribute; the 32-bit field
    // then holds ~0 ("see the 64-bit value").
    spec.rate = bytesPerSecond >= UInt64(UInt32.max) ? UInt32.max : UInt32(bytesPerSecond)
    return spec
}
