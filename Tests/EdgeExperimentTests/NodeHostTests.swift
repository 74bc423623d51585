// The commands the runner sends to a node: argv for a namespace, one shell-quoted string for a VM
// over SSH. The quoting is checked by handing the string to a real /bin/sh, as sshd does.
@testable import edge_experiment
import EdgeLab
import Foundation
import XCTest

final class NodeHostTests: XCTestCase {
    private let vm = VMNodeAccess(sshPort: 2231, address: "198.18.0.11", netns: "exvms", sshKey: "/k/id")

    func testNamespaceCommandIsIpNetnsExec() {
        XCTAssertEqual(NodeHost.namespace("ex1-n1").command(["tc", "qdisc", "show"]), ["ip", "netns", "exec", "ex1-n1", "tc", "qdisc", "show"])
        XCTAssertEqual(NodeHost.namespace("ex1-n1").daemon(["serve"]), ["ip", "netns", "exec", "ex1-n1", "serve"])
    }

    func testVMCommandIsSSHInTheBedNamespaceWithOneQuotedString() {
        let argv = NodeHost.vm(vm).command(["tc", "qdisc", "add", "dev", "eth1", "root", "netem", "delay", "20ms", "5ms"])
        // under a shell that outlives ssh's closing of inherited descriptors (see NodeHost.ssh)
        XCTAssertEqual(Array(argv.prefix(10)), ["sh", "-c", "\"$@\"; exit $?", "sh", "ip", "netns", "exec", "exvms", "ssh", "-i"])
        XCTAssertTrue(argv.contains("BatchMode=yes"))
        XCTAssertEqual(Array(argv.suffix(4)), ["-p", "2231", "root@127.0.0.1", "tc qdisc add dev eth1 root netem delay 20ms 5ms"])
    }

    func testQuotedWordsSurviveARealShell() throws {
        let words = ["plain", "two words", "it's", "$HOME", "a\"b", "", "semi;colon", "back\\slash", "*"]
        let line = (["printf", "%s\\n"] + words).map(NodeHost.shellQuoted).joined(separator: " ")
        let out = try sh(["sh", "-c", line]).stdout
        XCTAssertEqual(out, words.map { $0 + "\n" }.joined())
    }

    func testRemoteDaemonStopsWhenItsStandardInputCloses() throws {
        // the wrapper a VM daemon runs in, here in a local sh: it reports the pid, and closing
        // stdin (what DaemonProcess.stop does first) makes it SIGTERM the command and exit
        let argv = NodeHost.vm(vm).daemon(["sleep", "300"])
        let remote = try XCTUnwrap(argv.last)
        XCTAssertTrue(remote.hasPrefix("sh -c "))
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("nodehost-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let s = try DaemonProcess(name: "wrapper", ["sh", "-c", remote], logPath: log, stdinPipe: true)
        XCTAssertTrue(s.waitUntil(timeout: 10) { NodeHost.remotePID(inLog: s.log) != nil }, "no pid line: \(s.log)")
        let pid = try XCTUnwrap(NodeHost.remotePID(inLog: s.log))
        XCTAssertEqual(kill(pid, 0), 0, "the command runs")
        s.stop()
        XCTAssertFalse(s.process.isRunning)
        XCTAssertEqual(s.process.terminationReason, .exit, "the wrapper exited by itself, not by a signal")
        XCTAssertNotEqual(kill(pid, 0), 0, "the command was stopped")
    }

    func testAChildThatClosesItsDescriptorsDoesNotStopReapingUnderTheShell() throws {
        // ssh closes inherited descriptors; without the shell around it Foundation then blocks its
        // process monitor in waitpid for that child, and the next short command never returns
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("closer-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let closer = try DaemonProcess(name: "closer", NodeHost.underShell + ["python3", "-c", "import os, time; os.closerange(3, 65536); time.sleep(60)"],
                                 logPath: log, ownGroup: true)
        defer { closer.stop() }
        Thread.sleep(forTimeInterval: 0.5)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { _ = try? sh(["true"]); done.signal() }
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "a short command did not return while the closer ran")
    }

    func testStoppingAGroupStopsTheChildrenToo() throws {
        // S4's busy loops and a VM daemon's shell + ssh: stop() must not leave the children running
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("group-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let s = try DaemonProcess(name: "group", ["sh", "-c", "sleep 300 & echo \"child $!\"; wait"], logPath: log, ownGroup: true)
        XCTAssertTrue(s.waitUntil(timeout: 10) { s.log.contains("child ") }, s.log)
        let child = try XCTUnwrap(Int32(s.log.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""))
        XCTAssertEqual(getpgid(s.pid), s.pid, "the process leads its group")
        let t0 = monotonicNow()
        s.stop()
        XCTAssertLessThan(monotonicNow() - t0, 5, "SIGTERM to the group was enough")
        // gone, or a zombie waiting for init (the state field of /proc/PID/stat is Z)
        Thread.sleep(forTimeInterval: 0.2)
        let stat = (try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8)) ?? ""
        let state = stat.lastIndex(of: ")").map { stat[stat.index($0, offsetBy: 2)] }
        XCTAssertTrue(state == nil || state == "Z", "the child \(child) survived stop(): \(stat)")
    }

    func testRemotePIDAndProcStatParsing() {
        XCTAssertEqual(NodeHost.remotePID(inLog: "remote pid 4242\nlistening on 0.0.0.0:7000\n"), 4242)
        XCTAssertNil(NodeHost.remotePID(inLog: "listening on 0.0.0.0:7000\n"))
        // utime 250 + stime 50 ticks at 100 Hz; a comm with spaces and parentheses
        let stat = "1234 (edge experi) ment) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 100 0 0"
        XCTAssertEqual(procStatCPUSeconds(stat) ?? -1, 300 / Double(sysconf(Int32(_SC_CLK_TCK))), accuracy: 1e-9)
        XCTAssertNil(procStatCPUSeconds("garbage"))
    }
}
