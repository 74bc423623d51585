// Latency samples of one run, summarised the way the issue asks for (throughput, p50, p99, max).
import Foundation

struct LatencyStats {
    private(set) var samples: [Double] = []  // seconds

    mutating func add(_ d: Duration) {
        samples.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    mutating func merge(_ other: LatencyStats) { samples += other.samples }

    var count: Int { samples.count }

    /// The q-quantile (nearest rank) in seconds, 0 when empty.
    func quantile(_ q: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    var summary: String {
        String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms",
               quantile(0.5) * 1000, quantile(0.99) * 1000, (samples.max() ?? 0) * 1000)
    }
}
