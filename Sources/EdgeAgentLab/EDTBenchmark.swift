// `edge-bench` figures for the EDT shaper: what the program costs per packet, and how close a
// shaped class gets to its rate through a real veth pair on this machine (policing here, since
// this kernel has no sch_fq; pacing where it has).
import EdgeAPI
import EdgeAgent
import EdgeBPF
import EdgeCore
import EdgeLab
import Foundation
import Logging

public enum EDTBenchmark {
    /// Rates measured through the veth pair.
    public static let rates = ["10mbit", "100mbit", "1gbit"]

    /// Runs both parts and returns printable lines. Needs root.
    public static func run() throws -> String {
        var lines = ["EDT shaper"]
        lines += try programCost()
        for rate in rates { lines.append(try shapedRate(rate)) }
        return lines.joined(separator: "\n")
    }

    /// Per-packet cost through BPF_PROG_TEST_RUN (repeat 1e6), as the kernel times the run loop
    /// and as the program's own run-time statistics count it, for a shaped packet (class found,
    /// departure booked) and an unclassified one (lookups only). The floor is the classifier with
    /// the mark mask cleared: it reads one array slot and returns, so what it costs is the
    /// harness's own per-run overhead (the run loop, the statistics' clock reads) that every
    /// program pays; "above floor" is the program's own share, as the VM bench's `bwm_ref` gives it.
    static func programCost() throws -> [String] {
        let dp = try EDTDatapath(pinDirectory: nil)
        let prefix = try IPPrefix(parsing: "10.0.0.1")
        try dp.writeClass(1, edt_class(rateBytesPerSecond: BandwidthRate.maximum / 8, horizonNs: 60_000_000_000, ecn: true))
        try dp.bind(.prefix(prefix), to: 1)
        let token = try BPFStatsToken()
        defer { withExtendedLifetime(token) {} }
        let repeats: UInt32 = 1_000_000
        func measure(_ program: BPFProgram, _ source: [UInt8], _ context: SKBTestContext) throws -> (testRun: UInt32, stats: Double?) {
            let before = try program.stats()
            let run = try program.testRun(packet: benchmarkFrame(source: source), context: context, repeat: repeats)
            return (run.durationNs, try program.stats().nsPerRun(since: before))
        }
        try dp.writeMarkMask(0)
        let floor = try measure(dp.classifier, [10, 0, 0, 1], SKBTestContext())
        try dp.writeMarkMask(edt_config.defaultMarkMask)
        var lines = ["  floor (classifier, mark mask 0: one array read): \(floor.testRun) ns/run (test_run), "
            + "\(floor.stats.map { String(format: "%.1f", $0) } ?? "-") ns/run (bpf_stats)"]
        // the uplink program: by source address, by the class the veth classifier put in the
        // mark (a masqueraded pod: the address lookup is skipped), and a packet of no class
        let markedClass1 = SKBTestContext(mark: 1 << edt_config.defaultMarkMask.trailingZeroBitCount)
        let cases: [(String, BPFProgram, [UInt8], SKBTestContext)] = [
            ("uplink program, shaped packet", dp.program, [10, 0, 0, 1], SKBTestContext()),
            ("uplink program, shaped by mark", dp.program, [192, 168, 0, 1], markedClass1),
            ("uplink program, unclassified packet", dp.program, [10, 0, 0, 2], SKBTestContext()),
            ("veth classifier, pod packet", dp.classifier, [10, 0, 0, 1], SKBTestContext()),
            ("veth classifier, other packet", dp.classifier, [10, 0, 0, 2], SKBTestContext()),
        ]
        for (label, program, source, context) in cases {
            let m = try measure(program, source, context)
            let stats = m.stats.map { String(format: "%.1f", $0) } ?? "-"
            var above = "-"
            if let ns = m.stats, let base = floor.stats { above = String(format: "%.1f", ns - base) }
            lines.append("  \(label): \(m.testRun) ns/run (test_run, \(repeats) runs), \(stats) ns/run (bpf_stats), \(above) above floor")
        }
        return lines
    }

    /// Goodput of one TCP connection through a veth pair whose source address is limited to `rate`.
    static func shapedRate(_ rateText: String) throws -> String {
        let rate = try BandwidthRate(parsing: rateText)
        let lab = try VethLab(prefix: "edgebench")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("edgebench-\(UUID().uuidString)").path
        let pin = BPFFS.defaultMount + "/edgebench-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var logger = Logger(label: "edgenode.bench")
        logger.logLevel = .warning
        let shaper = Shaper(settings: ShaperSettings(device: lab.txDevice, horizonSeconds: nil, ecn: true,
                                                     pinPath: pin, stateDirectory: scratch),
                            netlink: try lab.txNetlink(), logger: logger)
        defer { _ = try? shaper.reset() }
        try shaper.setup()
        _ = try shaper.set(ShapingSetParams(selector: lab.txAddress, rate: rateText))
        let result = try TCPRateProbe.measure(sender: lab.txNamespace, receiver: lab.rxNamespace, address: lab.rxAddress)
        let measured = result.bitsPerSecond
        let error = (measured / Double(rate.bitsPerSecond) - 1) * 100
        let c = try shaper.list().classes.first
        let horizon = DurationParser.format(seconds: c?.horizonSeconds ?? 0)
        return "  shaped rate \(rate): measured " + String(format: "%.2f Mbit/s (%+.1f%%)", measured / 1e6, error)
            + ", horizon \(horizon), \(c?.drops ?? 0) drops, \(c?.ecnMarks ?? 0) CE marks, "
            + (shaper.status.hasPrefix("degraded") ? "policed (no sch_fq)" : "paced by fq")
    }

    /// 1514-byte IPv4/TCP frame from `source`.
    static func benchmarkFrame(source: [UInt8]) -> [UInt8] {
        var frame: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]
        frame += [0x45, 0, 0x05, 0xDC, 0, 1, 0x40, 0, 64, 6, 0, 0] + source + [10, 99, 0, 1]
        frame += [0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xFF, 0xFF, 0, 0, 0, 0]
        return frame + [UInt8](repeating: 0xAB, count: 1514 - frame.count)
    }
}
