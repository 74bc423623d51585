// Log-linear histogram of UInt64 nanosecond values, slot-for-slot the same as the BPF side's
// histogram maps (RTT, run-queue latency), so that counts read from the kernel can be used as-is.
//
// Layout (4 mantissa bits, 512 slots):
//   v < 16                : slot = v (exact)
//   e = floor(log2 v) >= 4: slot = (e - 3)·16 + ((v >> (e - 4)) & 15)
//   slot > 511            : clamped to 511 (values ≥ 2^35 ns ≈ 34 s; "overflow")
// A slot s ≥ 16 covers [(16 + s%16) << (e-4), that + (1 << (e-4))) with e = s/16 + 3, so a slot is at most
// 1/16 (6.25%) of its lower bound wide: that is what keeps a reported quantile within 10% of the exact one.
// (Two mantissa bits would make slots 25% wide, too coarse for p99.)

/// Histogram with the BPF side's log-linear slot layout; counts are per slot.
public struct LogLinearHistogram: Sendable, Equatable, Codable {
    /// Number of slots, equal to the BPF map's value array length.
    public static let slotCount = 512

    /// Mantissa bits per power of two.
    static let mantissaBits = 4
    static let mantissaCount = 1 << mantissaBits  // 16

    /// Thrown by `init(counts:)` and by decoding when the slot array has the wrong length.
    public struct WrongSlotCount: Error, CustomStringConvertible {
        /// The length that was given.
        public var given: Int
        public var description: String {
            "histogram needs exactly \(LogLinearHistogram.slotCount) slot counts, got \(given)"
        }
    }

    /// Count per slot; always `slotCount` long.
    public private(set) var counts: [UInt64]

    /// An empty histogram.
    public init() {
        counts = Array(repeating: 0, count: Self.slotCount)
    }

    /// A histogram from per-slot counts (e.g. a BPF map value).
    /// - Throws: `WrongSlotCount` unless `counts.count == slotCount`.
    public init(counts: [UInt64]) throws {
        guard counts.count == Self.slotCount else { throw WrongSlotCount(given: counts.count) }
        self.counts = counts
    }

    // MARK: slot arithmetic (must match bpf/ bit for bit)

    /// The slot a value falls into.
    @inline(__always)
    public static func slot(for value: UInt64) -> Int {
        if value < UInt64(mantissaCount) { return Int(value) }
        let e = 63 - value.leadingZeroBitCount  // >= 4
        let mantissa = Int((value >> UInt64(e - mantissaBits)) & UInt64(mantissaCount - 1))
        let slot = (e - 3) * mantissaCount + mantissa
        return min(slot, slotCount - 1)
    }

    /// Smallest value that falls into `slot` (0 ..< slotCount).
    public static func lowerBound(ofSlot slot: Int) -> UInt64 {
        precondition(slot >= 0 && slot < slotCount, "slot \(slot) out of 0..<\(slotCount)")
        if slot < mantissaCount { return UInt64(slot) }
        let e = slot / mantissaCount + 3
        let m = slot % mantissaCount
        return UInt64(mantissaCount + m) << UInt64(e - mantissaBits)
    }

    /// Exclusive upper bound of `slot`'s nominal range. The last slot additionally holds every larger
    /// value (overflow); quantiles that land there are reported inside its nominal range.
    public static func upperBound(ofSlot slot: Int) -> UInt64 {
        lowerBound(ofSlot: slot) + width(ofSlot: slot)
    }

    /// Width of `slot`'s nominal range (1 for the exact slots).
    static func width(ofSlot slot: Int) -> UInt64 {
        if slot < mantissaCount { return 1 }
        let e = slot / mantissaCount + 3
        return 1 << UInt64(e - mantissaBits)
    }

    // MARK: counting

    /// Adds `count` observations of `value`. Counts wrap like the kernel's u64 counters.
    public mutating func record(_ value: UInt64, count: UInt64 = 1) {
        let s = Self.slot(for: value)
        counts[s] = counts[s] &+ count
    }

    /// Number of observations (wrapping sum, as the counts themselves).
    public var total: UInt64 {
        counts.reduce(0, &+)
    }

    /// True when no observation is held.
    public var isEmpty: Bool {
        !counts.contains { $0 != 0 }
    }

    /// Adds another histogram slot by slot (wrapping).
    public mutating func add(_ other: LogLinearHistogram) {
        for i in 0..<Self.slotCount {
            counts[i] = counts[i] &+ other.counts[i]
        }
    }

    /// `self − older` slot by slot with wrapping arithmetic: the observations between two cumulative
    /// snapshots of a kernel histogram, correct even across a u64 wrap of a slot counter.
    public func subtractingWrapping(_ older: LogLinearHistogram) -> LogLinearHistogram {
        var out = self
        for i in 0..<Self.slotCount {
            out.counts[i] = counts[i] &- older.counts[i]
        }
        return out
    }

    /// Adds `count` to one slot directly (used when replaying sparse deltas).
    mutating func add(count: UInt64, toSlot slot: Int) {
        counts[slot] = counts[slot] &+ count
    }

    /// Subtracts `count` from one slot (wrapping); undoes `add(count:toSlot:)`.
    mutating func subtract(count: UInt64, fromSlot slot: Int) {
        counts[slot] = counts[slot] &- count
    }

    // MARK: statistics

    /// The q-quantile (q in [0, 1]) in the values' unit, or nil when the histogram is empty.
    ///
    /// Finds the slot where the cumulative count first reaches the rank q·total (the nearest-rank
    /// definition), then interpolates linearly inside that slot's range. Slots one unit wide hold a
    /// single value, which is returned exactly.
    public func quantile(_ q: Double) -> Double? {
        precondition(q >= 0 && q <= 1, "quantile \(q) outside [0, 1]")
        let totalCount = Double(total)
        guard totalCount > 0 else { return nil }
        let rank = q * totalCount
        var before = 0.0
        var lastNonEmpty = 0
        for s in 0..<Self.slotCount where counts[s] != 0 {
            lastNonEmpty = s
            let c = Double(counts[s])
            if before + c >= rank {
                return Self.interpolate(slot: s, fraction: (rank - before) / c)
            }
            before += c
        }
        // Only reachable through floating-point rounding at q = 1.
        return Self.interpolate(slot: lastNonEmpty, fraction: 1)
    }

    private static func interpolate(slot: Int, fraction: Double) -> Double {
        let lower = Double(lowerBound(ofSlot: slot))
        let w = width(ofSlot: slot)
        if w == 1 { return lower }
        return lower + Double(w) * min(max(fraction, 0), 1)
    }

    /// Approximate mean (slot midpoints; exact slots count their value), nil when empty.
    public var mean: Double? {
        var n = 0.0
        var sum = 0.0
        for s in 0..<Self.slotCount where counts[s] != 0 {
            let c = Double(counts[s])
            let w = Self.width(ofSlot: s)
            let mid = Double(Self.lowerBound(ofSlot: s)) + (w == 1 ? 0 : Double(w) / 2)
            n += c
            sum += c * mid
        }
        return n > 0 ? sum / n : nil
    }

    // MARK: Codable (validates the slot count)

    private enum CodingKeys: String, CodingKey { case counts }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let counts = try c.decode([UInt64].self, forKey: .counts)
        guard counts.count == Self.slotCount else {
            throw DecodingError.dataCorruptedError(
                forKey: .counts, in: c, debugDescription: WrongSlotCount(given: counts.count).description)
        }
        self.counts = counts
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(counts, forKey: .counts)
    }
}
