// How far ahead of now a class may book departures. The horizon is the class's bound on
// queueing delay (with fq) and its burst allowance (policing without fq). Too short and a single
// TSO super-packet of 64 KiB at a low rate would not fit; too long and it is Cilium's virtual
// FIFO again, seconds of latency under bulk load.
import EdgeCore

public enum ShapingHorizon {
    /// With fq (pacing): four 64 KiB GSO packets' worth of time at `rate`, within 5 ms … 1 s:
    /// 100 Mbit/s → 21 ms, 20 Mbit/s → 105 ms, 1 Gbit/s and up → 5 ms, 1 Mbit/s → 1 s.
    ///
    /// Without fq (policing) nothing waits, so the horizon bounds no delay: it is only the
    /// burst a class may run ahead of its rate. It must then outlast the stall of a local TCP
    /// sender whose packet was dropped with nothing in flight (it retries from the probe timer,
    /// at least TCP_RTO_MIN = 200 ms later); with a shorter horizon the class runs idle during
    /// every stall and a 20 Mbit/s class measured 7 Mbit/s here, with 300 ms it holds its rate.
    public static func derived(for rate: BandwidthRate, policing: Bool = false) -> Double {
        let fourGSOPackets = 4.0 * 65536 * 8 / Double(rate.bitsPerSecond)
        let paced = min(1.0, max(0.005, fourGSOPackets))
        return policing ? max(paced, policingFloor) : paced
    }

    /// Policing horizons are at least this long (see `derived`).
    public static let policingFloor = 0.3

    /// Accepted horizons: 1 ms … 60 s (the config's range).
    public static let range = 0.001...60.0

    /// The horizon for a class: the explicit one, else the configured one, else derived.
    public static func resolve(explicit: String?, configured: Double?, rate: BandwidthRate,
                               policing: Bool = false) throws -> Double {
        if let explicit {
            let seconds: Double
            do {
                seconds = try DurationParser.seconds(explicit)
            } catch {
                throw ShapingError.invalidHorizon("invalid horizon: \(error)")
            }
            guard range.contains(seconds) else {
                throw ShapingError.invalidHorizon("invalid horizon \"\(explicit)\": must be between 1ms and 60s")
            }
            return seconds
        }
        return configured ?? derived(for: rate, policing: policing)
    }
}
