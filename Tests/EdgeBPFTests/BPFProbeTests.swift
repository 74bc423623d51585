// Per-program probing on the real kernel: one program the verifier refuses no longer fails the
// whole object. bpf/probe_test.bpf.c holds an accepted program and one that reads a tracepoint
// argument the kernel does not pass (what 5.15 does to edge_sched_switch); the telemetry object
// itself is checked against kernel BTF's view of each tracepoint.
import EdgeAgent
import EdgeBPF
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class BPFProbeTests: XCTestCase {
    static let probeObject = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/CEdgeShim/bpfobj/probe_test.bpf.o").path

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        try requireKernelFeature("the test object \(Self.probeObject)",
                                 present: FileManager.default.fileExists(atPath: Self.probeObject), hint: "run `make bpf`")
    }

    func open() throws -> BPFObject { try BPFObject(file: Self.probeObject) }

    func testTheWholeObjectFailsWhenOneProgramIsRefused() throws {
        let obj = try open()
        XCTAssertThrowsError(try obj.load(), "without probing, one refused program fails every program")
    }

    func testOnlyTheRefusedProgramIsLeftOutWithTheVerifiersReason() throws {
        let (obj, refused) = try BPFProbe.loadAccepted(["probe_test_accepted", "probe_test_refused"], open: open)
        XCTAssertEqual(refused.map(\.program), ["probe_test_refused"])
        let reason = try XCTUnwrap(refused.first?.reason)
        XCTAssertTrue(reason.contains("argument"), "the verifier names the missing argument: \(reason)")
        XCTAssertFalse(reason.contains("\n"), "one line: \(reason)")

        // the accepted program is loaded and really runs
        let link = try obj.program("probe_test_accepted").attach()
        XCTAssertFalse(try obj.program("probe_test_refused").autoload)
        let token = try BPFStatsToken()
        try TCPLoad.cpu(workers: 2, seconds: 0.3)
        let stats = try obj.program("probe_test_accepted").stats()
        withExtendedLifetime((link, token)) {}
        XCTAssertGreaterThan(stats.runCount, 0, "sched_switch ran the accepted program")
    }

    func testRefusalOfOneProgramIsFoundByItsOwnLoad() throws {
        XCTAssertNil(BPFProbe.refusal(of: "probe_test_accepted", open: open))
        let why = try XCTUnwrap(BPFProbe.refusal(of: "probe_test_refused", open: open))
        XCTAssertTrue(why.contains("argument"), why)
    }

    func testKernelBTFCountsTracepointArguments() throws {
        // sched_switch: (preempt, prev, next) before 5.18, then prev_state; kfree_skb: reason from 5.17
        let sw = try XCTUnwrap(BPFSystem.tracepointArguments("sched_switch"))
        XCTAssertGreaterThanOrEqual(sw, 3)
        let release = try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
        if let v = KernelVersion(release: release), v >= KernelVersion(5, 18) {
            XCTAssertGreaterThanOrEqual(sw, 4, "5.18+ passes prev_state")
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(BPFSystem.tracepointArguments("kfree_skb")), 3)
        }
        XCTAssertNil(BPFSystem.tracepointArguments("edge_no_such_tracepoint"))
    }

    func testThePlanForThisKernelMatchesWhatLoads() throws {
        let plan = TelemetryPlan.fromBTF()
        let k = try KernelTelemetry(netnsInode: nil)
        XCTAssertEqual(Set(k.attached), Set(plan.load), "the BTF plan and the real load agree")
        XCTAssertEqual(k.missing, plan.off)
        // every hook is served by one program, preferred or fallback
        for p in TelemetryProgram.primaries {
            let served = k.attached.contains(p.name) || k.attached.contains(p.fallback ?? "-")
            XCTAssertTrue(served, "\(p.hook) has a program attached: \(k.attached)")
        }
    }

    func testAProgramReadingMoreArgumentsThanTheKernelPassesIsReplacedByItsFallback() {
        // the decision the plan makes on 5.15/5.16: a refused primary with an accepted fallback
        var plan = TelemetryPlan()
        let kfree = TelemetryProgram.named("edge_kfree_skb")!
        plan.choose(kfree, objection: "tracepoint kfree_skb passes 2 arguments, the program reads 3 (kernel 5.17+)") { _ in nil }
        XCTAssertEqual(plan.load, ["edge_kfree_skb_pre517"])
        XCTAssertEqual(plan.off.first?.fallback, "edge_kfree_skb_pre517")
        XCTAssertTrue(plan.off.first?.summary.contains("without drop reasons") == true, plan.off.first?.summary ?? "")

        // and a refused fallback leaves the signal absent, with both reasons
        var none = TelemetryPlan()
        none.choose(kfree, objection: "no hook") { _ in "no hook either" }
        XCTAssertEqual(none.load, [])
        XCTAssertEqual(none.off.map(\.program), ["edge_kfree_skb", "edge_kfree_skb_pre517"])
        XCTAssertTrue(none.off[0].summary.contains("stays absent"))
    }
}
