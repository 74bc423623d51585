// edgectl doctor with the real binaries on this kernel: each line is checked against what the
// kernel really does (sch_fq is tried with tc in a namespace of the test's own), the JSON parses,
// the exit status is the worst line's, and nothing is left on the host.
import EdgeAPI
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class DoctorTests: XCTestCase {
    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
    }

    func doctor(_ args: [String]) throws -> ShellResult {
        try sh([try Products.path("edgectl"), "doctor", "--agent-binary", try Products.path("edge-agent")] + args, check: false)
    }

    func report(_ r: ShellResult) throws -> DoctorReport {
        try EdgeJSON.decoder().decode(DoctorReport.self, from: Data(r.stdout.utf8))
    }

    /// What the kernel says about fq when asked by iproute2, independently of the doctor.
    func kernelHasFQ() throws -> Bool {
        let ns = try ScratchNetns()
        return try ns.run(["tc", "qdisc", "add", "dev", "lo", "root", "fq"], check: false).status == 0
    }

    func testEveryLineAgreesWithThisKernelAndTheJSONParses() throws {
        let linksBefore = try sh(["ip", "-o", "link", "show"]).stdout
        let r = try doctor(["--no-agent", "--json"])
        let parsed = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let checks = try XCTUnwrap(parsed?["checks"] as? [[String: Any]], r.stdout + r.stderr)
        XCTAssertTrue(checks.allSatisfy { $0["needed_by"] is String && $0["fix"] is String }, "snake_case keys: \(checks.first ?? [:])")

        let rep = try report(r)
        func line(_ name: String) throws -> DoctorCheck {
            try XCTUnwrap(rep.checks.first { $0.name == name }, "no line \(name): \(rep.checks.map(\.name))")
        }
        XCTAssertEqual(try line("BTF").status, .ok)
        for name in ["clsact", "cls_bpf", "mq"] {
            let c = try line(name)
            XCTAssertEqual(c.status, .ok, c.detail)
        }
        XCTAssertEqual(try line("EDT program (edt_egress)").status, .ok)
        XCTAssertEqual(try line("bpffs").status, .ok)
        XCTAssertEqual(try line("capabilities").status, .ok, "root has every capability")
        XCTAssertEqual(try line("cgroup layout").status, FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") ? .ok : .degraded)
        let hooks = rep.checks.filter { $0.name.hasPrefix("hook tp_btf/") }
        XCTAssertEqual(hooks.count, 6, "one line per hook: \(hooks.map(\.name))")
        XCTAssertTrue(rep.checks.contains { $0.name == "hook tp_btf/kfree_skb (edge_kfree_skb)" })

        let fq = try line("sch_fq")
        if try kernelHasFQ() {
            XCTAssertEqual(fq.status, .ok, fq.detail)
        } else {
            XCTAssertEqual(fq.status, .degraded, "no sch_fq degrades shaping, it does not stop it")
            XCTAssertTrue(fq.detail.contains("no sch_fq"), fq.detail)
            XCTAssertTrue(fq.detail.contains("policing") || fq.detail.contains("polices"), fq.detail)
            XCTAssertTrue(fq.fix.contains("CONFIG_NET_SCH_FQ") && fq.fix.contains("modprobe sch_fq"), fq.fix)
            XCTAssertTrue(fq.neededBy.contains("pacing"), fq.neededBy)
        }
        XCTAssertEqual(r.status, rep.status.exitCode, "exit status is the worst line's")
        XCTAssertEqual(rep.kernel, try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines))

        // the probes ran in a throwaway namespace: the host has no new device
        let linksAfter = try sh(["ip", "-o", "link", "show"]).stdout
        XCTAssertFalse(linksAfter.contains("edgeprobe"), linksAfter)
        XCTAssertEqual(linksBefore.split(separator: "\n").count, linksAfter.split(separator: "\n").count)
    }

    func testTextOutputSaysWhatDependsOnADegradedLineAndHowToGetIt() throws {
        let r = try doctor(["--no-agent"])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("kernel ") == true, r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("OK        BTF") }, r.stdout)
        if let fq = lines.firstIndex(where: { $0.hasPrefix("DEGRADED  sch_fq") }) {
            XCTAssertTrue(lines[fq + 1].contains("needed by: shaping"), r.stdout)
            XCTAssertTrue(lines[fq + 2].contains("fix: modprobe sch_fq"), r.stdout)
        }
        let verdict = try XCTUnwrap(lines.last)
        XCTAssertTrue(verdict.hasPrefix(r.status == 0 ? "OK: " : r.status == 1 ? "DEGRADED: " : "MISSING: "), verdict)
    }

    func testTheRunningAgentLineListsWhatItAttached() throws {
        let fixture = try OperatorAgentFixture()
        let r = try doctor(["--socket", fixture.socket, "--json"])
        let agent = try XCTUnwrap(try report(r).checks.last)
        XCTAssertEqual(agent.name, "agent")
        XCTAssertEqual(agent.status, .ok, agent.detail)
        for p in ["edge_tcp_probe", "edge_tcp_retransmit", "edge_kfree_skb", "edge_sched_switch"] {
            XCTAssertTrue(agent.detail.contains(p), agent.detail)
        }
        XCTAssertTrue(agent.detail.contains("shaping: disabled"), agent.detail)
    }

    func testAnAgentThatIsNotRunningIsNamedWithItsSocket() throws {
        let socket = "/run/edgetest-nothing-\(UUID().uuidString.prefix(8)).sock"
        let r = try doctor(["--socket", socket, "--json"])
        let agent = try XCTUnwrap(try report(r).checks.last)
        XCTAssertEqual(agent.status, .degraded)
        XCTAssertTrue(agent.detail.contains("not running: no socket at \(socket)"), agent.detail)
        XCTAssertTrue(agent.fix.contains("systemctl start edge-agent"), agent.fix)
        XCTAssertGreaterThanOrEqual(r.status, 1)
    }

    func testAMissingProbeBinaryIsMissingNotACrash() throws {
        let r = try sh([try Products.path("edgectl"), "doctor", "--no-agent", "--json",
                        "--agent-binary", "/nonexistent/edge-agent"], check: false)
        let rep = try report(r)
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(rep.checks.first?.status, .missing)
        XCTAssertTrue(rep.checks.first?.detail.contains("/nonexistent/edge-agent") == true, rep.checks.first?.detail ?? "")
    }
}
