// The study's reliability measure (retransmitted segments and kernel drops per node namespace), the
// workload profiles' sizing, the overall verdict lines and the one-mode interface.
import ArgumentParser
@testable import edge_experiment
import Foundation
import XCTest

final class ReliabilityAndWorkloadTests: XCTestCase {
    static let counters = """
    Ip: Forwarding DefaultTTL InReceives
    Ip: 1 64 1000
    Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
    Tcp: 1 200 120000 -1 10 20 0 0 5 5000 6000 37 0 1 0
    Udp: InDatagrams NoPorts
    Udp: 0 0
    @qdisc
    qdisc noqueue 0: dev lo root refcnt 2
     Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0)
     backlog 0b 0p requeues 0
    qdisc tbf 8001: dev ex1m1 root refcnt 2 rate 50Mbit burst 4Kb lat 50ms
     Sent 86000 bytes 100 pkt (dropped 12, overlimits 40 requeues 0)
    qdisc clsact ffff: dev ex1m1 parent ffff:fff1
     Sent 86 bytes 1 pkt (dropped 3, overlimits 0 requeues 0)
    @links
    0
    2
    0
    5
    """

    func testCountersAreRetransSegsAndEveryDrop() throws {
        let c = try NodeNetCounters.parse(Self.counters)
        XCTAssertEqual(c, NodeNetCounters(retransSegs: 37, drops: 12 + 3 + 2 + 5))
        XCTAssertEqual(c.delta(since: NodeNetCounters(retransSegs: 30, drops: 20)), NodeNetCounters(retransSegs: 7, drops: 2))
        XCTAssertEqual(NodeNetCounters(retransSegs: 1, drops: 1).delta(since: c), NodeNetCounters(retransSegs: 0, drops: 0))
        XCTAssertThrowsError(try NodeNetCounters.parse("@qdisc\n@links\n")) { XCTAssertTrue("\($0)".contains("no Tcp lines")) }
    }

    func testRunReliabilityIsTheSumOverNodesAndUnknownWhenANodeIsMissing() {
        var m = RunMetrics()
        m.countReliability(before: ["node-1": NodeNetCounters(retransSegs: 10, drops: 1), "node-2": NodeNetCounters(retransSegs: 0, drops: 0)],
                           after: ["node-1": NodeNetCounters(retransSegs: 25, drops: 4), "node-2": NodeNetCounters(retransSegs: 2, drops: 0)])
        XCTAssertEqual(m.retransSegs, 17)
        XCTAssertEqual(m.kernelDrops, 3)
        XCTAssertEqual(m.retransAndDrops, 20)
        XCTAssertEqual(m.nodeRetrans, ["node-1": 15, "node-2": 2])
        var partial = RunMetrics()
        partial.countReliability(before: ["node-1": NodeNetCounters(), "node-2": NodeNetCounters()], after: ["node-1": NodeNetCounters()])
        XCTAssertTrue(partial.retransSegs.isNaN, "a node that could not be read leaves the total unknown")
    }

    func testStreamIsSizedSoThatTheCapBindsOnTheCappedNodeInBaseline() {
        // 200 rps, 4 replicas round-robin on 4 nodes: node-1 gets 50 rps; 1.3 × 50 Mbit/s / 8 / 50 = 162,500 B
        let bytes = WorkloadProfile.stream.responseBytes(webBytes: 16384, rps: 200, replicas: 4, nodes: 4, degradedNode: 1)
        XCTAssertEqual(bytes, 162_500)
        XCTAssertGreaterThan(200.0 / 4 * Double(bytes) * 8, WorkloadProfile.s3CapBitsPerSecond)
        // 3 nodes, 4 replicas: node-1 holds two of them
        XCTAssertEqual(WorkloadProfile.baselineReplicas(onNode: 1, replicas: 4, nodes: 3), 2)
        XCTAssertEqual(WorkloadProfile.stream.responseBytes(webBytes: 1, rps: 50, replicas: 4, nodes: 3, degradedNode: 1), 325_000)
        XCTAssertEqual(WorkloadProfile.web.responseBytes(webBytes: 4096, rps: 200, replicas: 4, nodes: 4, degradedNode: 1), 4096)
        XCTAssertEqual(WorkloadProfile.inference.cpuMicros, 1500)
        XCTAssertEqual(WorkloadProfile.web.cpuMicros, 0)
        XCTAssertEqual(ScenarioID.allCases.map { WorkloadProfile.preset(for: $0) }, [.web, .web, .stream, .inference, .web])
    }

    func testTheWireCarriesTheCPUWork() {
        let r = WorkloadWire.request(responseBytes: 0x010203, sequence: 7, cpuMicros: 1500)
        XCTAssertEqual(r, [3, 2, 1, 0, 7, 0, 0, 0, 0xdc, 0x05, 0, 0])
        XCTAssertEqual(r.count, WorkloadWire.requestBytes)
    }

    func testBurningCPUSpendsThreadCPUTime() {
        var a = timespec(), b = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
        WorkloadWire.burnCPU(micros: 20_000)
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
        let spent = Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9
        XCTAssertGreaterThanOrEqual(spent, 0.020)
    }

    func testOverallLinesTellTheStudysRuleFromTheStrictOne() {
        let lines = Reports.overallLines([
            ("p99", [(.S2, "PASS"), (.S3, "FAIL")]),
            ("reliability", [(.S2, "PASS"), (.S5, "PASS")]),
            ("MTTR", [(nil, "PASS")]),
        ])
        XCTAssertEqual(lines[0], "overall, the study's rule (success if one or more criteria hold): SUCCESS — criteria holding in every scenario they are judged in: reliability; MTTR")
        XCTAssertEqual(lines[1], "  criterion–scenario pairs that hold: p99 [S2]; reliability [S2]; reliability [S5]; MTTR")
        XCTAssertEqual(lines[2], "overall, strict (every criterion in every scenario): FAIL — not holding: p99 [S3] FAIL")
        let none = Reports.overallLines([("p99", [(.S1, "FAIL")])])
        XCTAssertTrue(none[0].contains("FAILURE — criteria holding in every scenario they are judged in: none"))
        XCTAssertTrue(Reports.overallLines([("MTTR", [(nil, "PASS")])])[2].hasSuffix("PASS"))
    }

    func testVerdictJudgesReliabilityOnRetransmitsAndDropsWithSignificance() {
        func record(_ mode: Mode, _ rep: Int, retrans: Double, p99: Double) -> RunRecord {
            var m = RunMetrics()
            m.retransSegs = retrans; m.kernelDrops = 0; m.p99Ms = p99; m.errorRate = 0; m.qps = 200; m.cpuPerMillion = 100
            return RunRecord(spec: RunSpec(scenario: .S2, mode: mode, rps: 200, rep: rep), metrics: m, placement: ["node-2"], notes: [], responseBytes: 16384)
        }
        let records = (1...4).flatMap { i in [record(.baseline, i, retrans: 100 + Double(i), p99: 3 + Double(i) / 10),
                                               record(.proposed, i, retrans: 10 + Double(i), p99: 3 + Double(i) / 10)] }
        let v = Reports.verdict(records: records, scenariosAsked: [.S2], notRunnable: [:], mttr: nil, label: "t", parameters: "bed: test",
                                degradedNode: "node-1")
        XCTAssertTrue(v.contains("the service's retransmitted segments + kernel drops −20% (S2, S3, S5): NOT RUN (passed where run, not run everywhere)"), v)
        XCTAssertTrue(v.contains("  S2 2% packet loss (tc BPF): PASS — 200 rps: baseline 102.5000 → proposed 12.5000 (-87.8%"), v)
        XCTAssertTrue(v.contains("request errors +0.0% → +0.0%"), v)
        XCTAssertTrue(v.contains("  S2 2% packet loss (tc BPF): FAIL — 200 rps: baseline 3.2500 → proposed 3.2500 (+0.0%"), "equal p99 fails: \(v)")
        // reliability is not run in S3 and S5, so it does not count; the stable best node (no placement changes) does
        let overall = v.split(separator: "\n").first { $0.hasPrefix("overall, the study's rule") }.map(String.init) ?? ""
        XCTAssertTrue(overall.hasSuffix("SUCCESS — criteria holding in every scenario they are judged in: best-node changes ≤ 1.6/min"), v)
        XCTAssertFalse(overall.contains("retransmitted"), "reliability is not run in S3 and S5: \(v)")
        XCTAssertTrue(v.contains("reliability [S2]") || v.contains("−20% (S2, S3, S5) [S2]"), v)
        let one = Reports.verdict(records: records.filter { $0.spec.mode == .baseline }, scenariosAsked: [.S2], notRunnable: [:], mttr: nil,
                                  label: "t", parameters: "bed: test", degradedNode: "node-1", modes: [.baseline])
        XCTAssertTrue(one.contains("S2: NOT RUN — only baseline ran: a change needs both modes"), one)
    }

    func testOneModeAndWorkloadOptions() throws {
        XCTAssertEqual(try RunCommand.parseModes("proposed"), [.proposed])
        XCTAssertEqual(try RunCommand.parseModes("baseline, proposed"), [.baseline, .proposed])
        XCTAssertEqual(try RunCommand.parseWorkload("stream", for: .S4), .stream)
        XCTAssertEqual(try RunCommand.parseWorkload("auto", for: .S4), .inference)
        XCTAssertEqual(try RunCommand.parseWorkload("AUTO", for: .S3), .stream)
        for (args, expected) in [(["--modes", "fast"], "--modes: unknown mode 'fast' (known: baseline, proposed)"),
                                 (["--modes", "baseline,baseline"], "--modes: give baseline, proposed or both, each once"),
                                 (["--workload", "video"], "--workload: unknown profile 'video' (known: auto, web, inference, stream)"),
                                 (["--node-cpus=-1"], "--node-cpus must be 0 (no node cgroups) or in [0.01, 1024], got -1.0")] {
            do {
                _ = try RunCommand.parse(args)
                XCTFail("\(args) accepted")
            } catch {
                XCTAssertTrue(RunCommand.message(for: error).contains(expected), "\(args): \(RunCommand.message(for: error))")
            }
        }
    }
}
