// The real telemetry object on the real kernel: load, attach, generate traffic in a network
// namespace made for the test, and assert the counters move (and only for that namespace).
import EdgeAgent
import EdgeBPF
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class TelemetryProgramTests: XCTestCase {
    static let loadScript = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/tcp_load.py").path

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
    }

    func testEveryProgramLoadsAndAttachesOnThisKernel() throws {
        let k = try KernelTelemetry(netnsInode: nil)
        XCTAssertEqual(k.missing, [], "this kernel has every tp_btf hook we use")
        XCTAssertFalse(k.dropReasonNames.isEmpty, "skb_drop_reason names come from kernel BTF")
        XCTAssertTrue(k.dropReasonNames.values.contains("NO_SOCKET"))
        XCTAssertTrue(k.dropReasonNames.values.contains("QDISC_DROP"))
    }

    func testLoopbackTrafficInANamespaceShowsRTTRetransmitsAndDrops() throws {
        let ns = try ScratchNetns()
        let inode = try networkNamespaceInode(path: "/run/netns/\(ns.name)")
        let k = try KernelTelemetry(netnsInode: inode)
        let before = try k.read()

        try TCPLoad.constrainLoopback(ns)
        let out = try ns.run(["python3", Self.loadScript, "--conns", "4", "--seconds", "2", "--mode", "bulk"])
        XCTAssertTrue(out.stdout.contains("bytes"), out.stdout + out.stderr)

        let after = try k.read()
        let rtt = after[.rtt].subtractingWrapping(before[.rtt])
        XCTAssertGreaterThan(rtt.total, 50, "RTT samples from the namespace's connections")
        let p50 = try XCTUnwrap(rtt.quantile(0.5))
        XCTAssertGreaterThan(p50, 1_000, "a shaped loopback RTT is above 1 µs")
        XCTAssertLessThan(p50, 10_000_000_000, "and below 10 s")
        XCTAssertGreaterThan(after[.retransmits] - before[.retransmits], 0, "tbf drops cause retransmits")
        let qdiscDrops = k.dropReasonNames.first(where: { $0.value == "QDISC_DROP" })?.key
        let dropped = after.drops[qdiscDrops ?? -1, default: 0] - before.drops[qdiscDrops ?? -1, default: 0]
        XCTAssertGreaterThan(dropped, 0, "drops counted under QDISC_DROP: \(after.drops)")
        XCTAssertNotNil(after.peers["127.0.0.1"], "per-peer RTT keyed by the remote address")
    }

    func testNamespaceFilterExcludesOtherNamespaces() throws {
        let ns = try ScratchNetns()
        let other = try ScratchNetns()
        let k = try KernelTelemetry(netnsInode: try networkNamespaceInode(path: "/run/netns/\(ns.name)"))
        let before = try k.read()
        try other.run(["python3", Self.loadScript, "--conns", "2", "--seconds", "1", "--mode", "rr"])
        let after = try k.read()
        XCTAssertEqual(after[.rtt].subtractingWrapping(before[.rtt]).total, 0,
                       "traffic in another namespace is not counted")
    }

    func testRunQueueLatencyIsSampled() throws {
        let k = try KernelTelemetry(netnsInode: nil)
        let before = try k.read()
        // two busy loops per core force wakeups and preemption on the run queues
        try TCPLoad.cpu(workers: 4, seconds: 1)
        let after = try k.read()
        let runq = after[.runqlat].subtractingWrapping(before[.runqlat])
        XCTAssertGreaterThan(runq.total, 10)
        let p95 = try XCTUnwrap(runq.quantile(0.95))
        XCTAssertGreaterThan(p95, 100, "p95 run-queue latency above 100 ns")
    }

    func testProgramCostIsMeasurableWithStatsEnabled() throws {
        let k = try KernelTelemetry(netnsInode: nil)
        let token = try BPFStatsToken()
        let before = try k.programStats()
        try TCPLoad.cpu(workers: 2, seconds: 0.5)
        let after = try k.programStats()
        withExtendedLifetime(token) {}
        let sw = try XCTUnwrap(after["edge_sched_switch"])
        let cost = try XCTUnwrap(sw.nsPerRun(since: try XCTUnwrap(before["edge_sched_switch"])))
        XCTAssertGreaterThan(cost, 0)
        XCTAssertLessThan(cost, 100_000, "ns per sched_switch run is sane")
    }
}
