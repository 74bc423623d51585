// Sliding window over the last intervals of telemetry deltas, turned into a `TelemetryWindow`.
//
// The window is kept as running sums: adding an interval adds its deltas, evicting one subtracts them
// (exactly, as all counts are integers), so a 1 s tick costs only the non-zero slots it carries, not a
// re-sum of the whole window. Histograms of held intervals are stored sparse for the same reason.

/// Keeps the last intervals (by count and by covered time) and summarises them.
public struct TelemetryAggregator: Sendable {
    /// The drop "reason" of a packet that was consumed normally; it is not a drop and is not counted.
    public static let consumedReason = "CONSUMED"
    /// Prefix the kernel puts on reason names; stripped if a caller passes it through.
    static let reasonPrefix = "SKB_DROP_REASON_"

    /// Configured window length in seconds.
    public let windowSeconds: Double
    /// Most intervals held at once (`ceil(window / interval)` when the interval is known).
    public let maxIntervals: Int
    /// Weight per drop reason for `dropRateWeighted`.
    /// Changeable at run time (a config reload); applies to every window computed afterwards.
    public var dropWeights: [String: Double]
    /// Weight of reasons missing from `dropWeights`.
    public var defaultDropWeight: Double
    /// Most peers reported in a window (busiest first); 0 reports none.
    public let maxPeers: Int

    private struct HeldInterval: Sendable {
        var nanoseconds: UInt64
        /// Non-empty histograms by `TelemetryHistogram.slot`.
        var histograms: [(slot: Int, counts: SparseSlotCounts)]
        /// Non-zero counters by `TelemetryCounter.slot`.
        var counters: [(slot: Int, count: UInt64)]
        var peers: [(address: String, counts: SparseSlotCounts)]
        var drops: [(reason: String, count: UInt64)]
    }

    // FIFO of held intervals: live elements are held[head...]; compacted when the dead prefix grows.
    private var held: [HeldInterval] = []
    private var head = 0

    // Running sums over the held intervals. Durations in integer nanoseconds so that add/evict is exact.
    private var nanoseconds: UInt64 = 0
    /// One histogram per `TelemetryHistogram`, indexed by its slot.
    private var histograms = [LogLinearHistogram](repeating: LogLinearHistogram(), count: TelemetryHistogram.allCases.count)
    /// One sum per `TelemetryCounter`, indexed by its slot.
    private var counters = [UInt64](repeating: 0, count: TelemetryCounter.allCases.count)
    private var peers: [String: LogLinearHistogram] = [:]
    private var peerSamples: [String: UInt64] = [:]
    private var drops: [String: UInt64] = [:]

    /// - Parameters:
    ///   - windowSeconds: how much time the window should cover (> 0).
    ///   - intervalSeconds: the agent's tick, if known; bounds the number of intervals held to
    ///     `ceil(window / interval)`. Without it only covered time bounds the window (and a hard cap of
    ///     36 000 intervals, one hour of 100 ms ticks).
    ///   - dropWeights: weight per reason name (without the `SKB_DROP_REASON_` prefix).
    ///   - defaultDropWeight: weight of other reasons.
    ///   - maxPeers: most peers listed in a window.
    public init(windowSeconds: Double, intervalSeconds: Double? = nil,
                dropWeights: [String: Double] = [:], defaultDropWeight: Double = 1,
                maxPeers: Int = 256) {
        precondition(windowSeconds > 0 && windowSeconds.isFinite, "window must be a positive number of seconds")
        self.windowSeconds = windowSeconds
        if let i = intervalSeconds, i > 0, i.isFinite {
            maxIntervals = max(1, Int((windowSeconds / i).rounded(.up)))
        } else {
            maxIntervals = 36_000
        }
        self.dropWeights = dropWeights
        self.defaultDropWeight = defaultDropWeight
        self.maxPeers = max(0, maxPeers)
    }

    /// Intervals currently held.
    public var intervalCount: Int { held.count - head }

    /// Seconds covered by the held intervals.
    public var coveredSeconds: Double { Double(nanoseconds) / 1e9 }

    /// Forgets every interval (e.g. after the BPF programs were reloaded and counters restarted).
    public mutating func removeAll() {
        self = TelemetryAggregator(windowSeconds: windowSeconds, intervalSeconds: nil,
                                   dropWeights: dropWeights, defaultDropWeight: defaultDropWeight,
                                   maxPeers: maxPeers, maxIntervals: maxIntervals)
    }

    private init(windowSeconds: Double, intervalSeconds: Double?, dropWeights: [String: Double],
                 defaultDropWeight: Double, maxPeers: Int, maxIntervals: Int) {
        self.windowSeconds = windowSeconds
        self.maxIntervals = maxIntervals
        self.dropWeights = dropWeights
        self.defaultDropWeight = defaultDropWeight
        self.maxPeers = maxPeers
    }

    /// Adds one interval's deltas, then evicts the oldest intervals that fall out of the window.
    ///
    /// Eviction: first while more than `maxIntervals` are held; then, while more than one is held,
    /// the oldest goes when dropping it brings the covered time at least as close to `windowSeconds`
    /// (i.e. while `covered − window ≥ oldest / 2`). Tick jitter therefore neither shrinks the window by
    /// a whole interval nor lets it grow. A negative or non-finite duration counts as 0.
    public mutating func add(_ interval: TelemetryInterval) {
        let d = interval.duration
        let ns: UInt64 = (d.isFinite && d > 0) ? UInt64(min(d, 1e9) * 1e9) : 0

        var h = HeldInterval(nanoseconds: ns, histograms: [], counters: [], peers: [], drops: [])
        for (kind, histogram) in interval.histograms {
            let sparse = SparseSlotCounts(histogram)
            if !sparse.isEmpty { h.histograms.append((kind.slot, sparse)) }
        }
        for (kind, count) in interval.counters where count != 0 { h.counters.append((kind.slot, count)) }
        for (address, histogram) in interval.peerRTT {
            let sparse = SparseSlotCounts(histogram)
            if !sparse.isEmpty { h.peers.append((address, sparse)) }
        }
        for (name, count) in interval.drops where count != 0 {
            let reason = name.hasPrefix(Self.reasonPrefix) ? String(name.dropFirst(Self.reasonPrefix.count)) : name
            if reason != Self.consumedReason { h.drops.append((reason, count)) }
        }

        apply(h, adding: true)
        held.append(h)

        while intervalCount > maxIntervals { evictOldest() }
        let windowNs = Int64(windowSeconds * 1e9)
        while intervalCount > 1 {
            let excess = Int64(bitPattern: nanoseconds) - windowNs
            guard excess > 0, UInt64(excess) * 2 >= held[head].nanoseconds else { break }
            evictOldest()
        }
    }

    private mutating func evictOldest() {
        apply(held[head], adding: false)
        head += 1
        if head == held.count {
            held.removeAll(keepingCapacity: true)
            head = 0
            nanoseconds = 0  // nothing held: restart the sums from exact zero
        } else if head >= 64 && head * 2 >= held.count {
            held.removeFirst(head)
            head = 0
        }
    }

    /// Adds an interval into the running sums, or takes it out again.
    private mutating func apply(_ h: HeldInterval, adding: Bool) {
        if adding {
            nanoseconds &+= h.nanoseconds
            for (slot, counts) in h.histograms { counts.add(into: &histograms[slot]) }
            for (slot, count) in h.counters { counters[slot] &+= count }
            for (address, counts) in h.peers {
                counts.add(into: &peers[address, default: LogLinearHistogram()])
                peerSamples[address, default: 0] &+= counts.total
            }
            for (reason, count) in h.drops {
                drops[reason, default: 0] &+= count
            }
        } else {
            nanoseconds &-= h.nanoseconds
            for (slot, counts) in h.histograms { counts.subtract(from: &histograms[slot]) }
            for (slot, count) in h.counters { counters[slot] &-= count }
            for (address, counts) in h.peers {
                let left = (peerSamples[address] ?? 0) &- counts.total
                if left == 0 {
                    // Forget peers that left the window, so the map does not grow without bound.
                    peers[address] = nil
                    peerSamples[address] = nil
                } else {
                    counts.subtract(from: &peers[address, default: LogLinearHistogram()])
                    peerSamples[address] = left
                }
            }
            for (reason, count) in h.drops {
                let left = (drops[reason] ?? 0) &- count
                drops[reason] = left == 0 ? nil : left
            }
        }
    }

    /// Weight applied to a drop reason.
    public func weight(ofDropReason reason: String) -> Double {
        dropWeights[reason] ?? defaultDropWeight
    }

    /// Summarises the held intervals: every catalogue signal computed from its sums. Signals
    /// without samples are nil (quantiles, ratios with a zero denominator); rates are per covered
    /// second; quantiles are in milliseconds.
    /// - Parameters:
    ///   - node: node name to report.
    ///   - agentVersion: agent version to report.
    ///   - now: Unix time in seconds, reported as `generatedAt`.
    public func window(node: String, agentVersion: String, now: Double) -> TelemetryWindow {
        let seconds = coveredSeconds
        func perSecond(_ n: UInt64) -> Double { seconds > 0 ? Double(n) / seconds : 0 }
        func milliseconds(_ ns: Double?) -> Double? { ns.map { $0 / 1e6 } }

        var dropStats = drops.map { reason, count in
            DropReasonStat(reason: reason, count: count, ratePerSecond: perSecond(count),
                           weight: weight(ofDropReason: reason))
        }
        dropStats.sort { $0.count != $1.count ? $0.count > $1.count : $0.reason < $1.reason }
        // Summed in the sorted order so the result does not depend on dictionary iteration order.
        let dropTotal = dropStats.reduce(UInt64(0)) { $0 &+ $1.count }
        let weighted = dropStats.reduce(0.0) { $0 + $1.weight * $1.ratePerSecond }

        let busiest = peerSamples.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let peerList: [PeerRTT] = busiest.prefix(maxPeers).map { address, samples in
            let h = peers[address] ?? LogLinearHistogram()
            return PeerRTT(address: address, rttP50Ms: milliseconds(h.quantile(0.5)),
                           rttP99Ms: milliseconds(h.quantile(0.99)), samples: samples)
        }

        var w = TelemetryWindow(node: node, agentVersion: agentVersion, generatedAt: now, windowSeconds: seconds,
                                drops: dropStats, peers: peerList)
        for signal in TelemetrySignal.catalogue {
            let value: Double?
            switch signal.source {
            case let .quantile(kind, q): value = milliseconds(histograms[kind.slot].quantile(q))
            case let .samples(kind):
                signal.field.setCount(histograms[kind.slot].total, into: &w)
                continue
            case let .count(kind):
                signal.field.setCount(counters[kind.slot], into: &w)
                continue
            case let .ratio(numerator, denominator, clamped):
                let n = counters[numerator.slot], d = counters[denominator.slot]
                if d == 0 {
                    value = nil
                } else {
                    let r = Double(n) / Double(d)
                    value = clamped ? min(1, max(0, r)) : r
                }
            case let .dropsPerSecond(weightedRate): value = weightedRate ? weighted : perSecond(dropTotal)
            case .coveredSeconds: value = seconds
            }
            signal.set(value, in: &w)
        }
        return w
    }
}

extension TelemetryHistogram {
    /// Index in `allCases`: where the aggregator keeps this histogram (looked up, not searched:
    /// `allCases` is a new array on every use).
    var slot: Int { Self.slots[self]! }
    private static let slots = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
}

extension TelemetryCounter {
    /// Index in `allCases`: where the aggregator keeps this counter.
    var slot: Int { Self.slots[self]! }
    private static let slots = Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($1, $0) })
}
