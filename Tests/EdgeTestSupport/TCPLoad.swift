// Loopback traffic with real loss, for the kernel tests (no netem on this kernel).
import Foundation

public enum TCPLoad {
    public static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/tcp_load.py").path

    /// Gives the namespace's loopback an Ethernet-sized MTU and a 20 Mbit/s tbf with a short
    /// queue. Bulk TCP overruns the queue, so the qdisc drops (kfree_skb reason QDISC_DROP) and
    /// TCP retransmits; every packet fits the bucket, so retransmissions get through (a tbf
    /// burst below the MTU would drop every segment, and failed retransmits are not traced).
    public static func constrainLoopback(_ ns: ScratchNetns) throws {
        try ns.run(["ip", "link", "set", "lo", "mtu", "1500"])
        try ns.run(["tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "20mbit", "burst", "32kb", "limit", "48kb"])
    }

    static let cpuScript = URL(fileURLWithPath: script).deletingLastPathComponent()
        .appendingPathComponent("cpu_load.py").path

    /// `workers` busy processes for `seconds` (they stop by themselves).
    public static func cpu(workers: Int, seconds: Double) throws {
        try sh(["python3", cpuScript, "--workers", String(workers), "--seconds", String(seconds)])
    }

    /// Runs the load inside `ns` and returns its JSON totals line.
    @discardableResult
    public static func run(in ns: ScratchNetns, conns: Int = 4, seconds: Double = 2, mode: String = "bulk") throws -> String {
        try ns.run(["python3", script, "--conns", String(conns), "--seconds", String(seconds), "--mode", mode]).stdout
    }
}
