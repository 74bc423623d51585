// Latency samples of one run, summarised the way the issue asks for (throughput, p50, p99, max).
import EdgeLab
import Foundation

struct LatencyStats {
    private(set) var samples: [Double] = []  // seconds

    mutating func add(_ d: Duration) {
        samples.append(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }

    mutating func merge(_ other: LatencyStats) { samples += other.samples }

    var count: Int { samples.count }

    /// The q-quantile (the lab's nearest rank) in seconds, 0 when empty.
    func quantile(_ q: Double) -> Double {
        samples.isEmpty ? 0 : ExperimentStats.quantile(sorted: samples.sorted(), q)
    }

    var summary: String {
        String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms",
               quantile(0.5) * 1000, quantile(0.99) * 1000, (samples.max() ?? 0) * 1000)
    }
}
