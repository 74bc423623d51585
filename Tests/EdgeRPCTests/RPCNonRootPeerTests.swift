import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import NIOPosix
import XCTest

/// Peers that are not root, made with setpriv; the client is a small Python script because
/// the test process itself must stay root to run the server.
final class RPCNonRootPeerTests: XCTestCase {
    private var live: LiveServer!

    /// Sends a read (sum) and a write (state.set) request, prints both answers, one per line;
    /// prints CONNECT-ERROR <errno> when the socket refuses the connection.
    private let script = """
        import json, socket, sys
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sys.argv[1])
        except OSError as e:
            print("CONNECT-ERROR", e.errno)
            sys.exit(0)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"sum","params":{"values":[40,2]}}\\n'
                  b'{"jsonrpc":"2.0","id":2,"method":"state.set"}\\n')
        f = s.makefile("rb")
        for _ in range(2):
            print(f.readline().decode().strip())
        """

    override func setUp() async throws {
        try requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            try unmet("needs /usr/bin/setpriv and /usr/bin/python3")
        }
        live = try LiveServer()
        try await live.start()
        try script.write(toFile: live.directory + "/client.py", atomically: true, encoding: .utf8)
    }

    override func tearDown() async throws {
        try await live?.stop()
    }

    private func runAsNobody(extra: [String] = [], groups: [String] = ["--regid=65534", "--clear-groups"],
                             socket: String? = nil) throws -> [String] {
        let result = try sh(["/usr/bin/setpriv", "--reuid=65534"] + groups + extra
            + ["/usr/bin/python3", live.directory + "/client.py", socket ?? live.path])
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// `rpc.admin_group`: a member (primary or supplementary gid at connect time) may write,
    /// the same uid without the group may not.
    func testAdminGroupMembersMayWrite() async throws {
        let group = "edgta-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try sh(["groupadd", "--system", group])
        defer { _ = try? sh(["groupdel", group], check: false) }
        let gid = try XCTUnwrap(sh(["getent", "group", group]).stdout.split(separator: ":").dropFirst(2).first.map(String.init))
        let admin = try LiveServer { $0.adminGroup = group }
        try await admin.start()
        XCTAssertEqual(chmod(admin.path, 0o666), 0)
        XCTAssertEqual(chmod(admin.directory, 0o755), 0)
        let supplementary = try responses(try runAsNobody(groups: ["--regid=65534", "--groups=\(gid)"], socket: admin.path))
        let primary = try responses(try runAsNobody(groups: ["--regid=\(gid)", "--clear-groups"], socket: admin.path))
        let outside = try responses(try runAsNobody(socket: admin.path))
        try await admin.stop()
        XCTAssertEqual(supplementary.count, 2)
        XCTAssertEqual(supplementary[1]["result"], ["changed_by_uid": 65534])
        XCTAssertEqual(primary.count, 2)
        XCTAssertEqual(primary[1]["result"], ["changed_by_uid": 65534])
        XCTAssertEqual(outside.count, 2)
        XCTAssertEqual(outside[1]["error"]?["code"], -32001)
    }

    private func responses(_ lines: [String]) throws -> [JSONValue] {
        try lines.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    func testUnprivilegedPeerMayReadButNotWrite() throws {
        XCTAssertEqual(chmod(live.path, 0o666), 0)  // stands in for "member of the socket's group"
        let answers = try responses(try runAsNobody())
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers[0]["result"], ["caller_uid": 65534, "total": 42])
        XCTAssertEqual(answers[1]["error"]?["code"], -32001)
        XCTAssertEqual(answers[1]["error"]?["message"],
                       "permission denied: 'state.set' changes state and needs root or the admin group (rpc.admin_group)")
    }

    /// The rule changed in issue 13: CAP_NET_ADMIN held by a non-root peer no longer grants
    /// writes (this test used to assert that it did). Capabilities are not bound to a
    /// connection; the admin group is the way to delegate writes.
    func testCapNetAdminAloneNoLongerGrantsWrites() throws {
        XCTAssertEqual(chmod(live.path, 0o666), 0)
        let answers = try responses(try runAsNobody(extra: ["--inh-caps=+net_admin", "--ambient-caps=+net_admin"]))
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers[0]["result"], ["caller_uid": 65534, "total": 42])
        XCTAssertEqual(answers[1]["error"]?["code"], -32001)
    }

    /// Issue 13 finding 1: a member that makes its own user namespace (`unshare -Ur`) is root
    /// with every capability in there. SO_PEERCRED shows its real uid, so it stays read-only.
    func testRootOfAUserNamespaceIsStillItsRealUid() throws {
        XCTAssertEqual(chmod(live.path, 0o666), 0)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { try unmet("needs /usr/bin/unshare") }
        let probe = try sh(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "/usr/bin/unshare", "-Ur", "/usr/bin/id", "-u"], check: false)
        guard probe.status == 0, probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0" else {
            try unmet("unprivileged user namespaces are disabled here: \(probe.stderr)")
        }
        let answers = try responses(try runAsNobody(extra: ["/usr/bin/unshare", "-Ur"]))
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers[0]["result"], ["caller_uid": 65534, "total": 42], "the peer's uid as the server sees it")
        XCTAssertEqual(answers[1]["error"]?["code"], -32001, "namespace root must not write: \(answers[1])")
    }

    /// Issue 13 finding 2: a member connects, hands the connection to a child and execs a
    /// setuid-root binary; the child then asks for a write. The server's event loops are held
    /// still while this happens, so it accepts only after the exec (the order that made the
    /// old CapEff-after-accept rule grant the write). Rights are fixed when connect(2)
    /// returns, so every try must be refused.
    func testExecOfASetuidBinaryAfterConnectGainsNothing() throws {
        XCTAssertEqual(chmod(live.path, 0o666), 0)
        // A setuid-root copy of sleep: after the exec the connecting pid is euid 0 with every capability.
        let helper = live.directory + "/suid-sleep"
        try FileManager.default.copyItem(atPath: "/usr/bin/sleep", toPath: helper)
        XCTAssertEqual(chown(helper, 0, 0), 0)
        XCTAssertEqual(chmod(helper, 0o4755), 0)
        XCTAssertEqual(chmod(live.directory, 0o755), 0)
        let race = """
            import os, socket, sys, time
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(30)
            s.connect(sys.argv[1])
            pid = os.fork()
            if pid != 0:
                os.execv(sys.argv[2], [sys.argv[2], "4"])  # the connecting process becomes euid 0
            time.sleep(0.3)
            with open("/proc/%d/status" % os.getppid()) as f:
                euid = [l.split()[2] for l in f if l.startswith("Uid:")][0]
            s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"state.set"}\\n')
            print(euid, s.makefile("rb").readline().decode().strip())
            """
        try race.write(toFile: live.directory + "/race.py", atomically: true, encoding: .utf8)
        var raised = 0
        for _ in 0..<4 {
            // Hold every event loop (the server's accept and its reads) for 2 s.
            for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
                loop.execute { usleep(2_000_000) }
            }
            let r = try sh(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "/usr/bin/python3", live.directory + "/race.py", live.path, helper])
            let line = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let parts = line.split(separator: " ", maxSplits: 1)
            XCTAssertEqual(parts.count, 2, "race client printed: \(line) \(r.stderr)")
            guard parts.count == 2 else { continue }
            if parts[0] == "0" { raised += 1 }
            let answer = try JSONDecoder().decode(JSONValue.self, from: Data(parts[1].utf8))
            XCTAssertEqual(answer["error"]?["code"], -32001, "write granted after a setuid exec: \(answer)")
        }
        XCTAssertGreaterThan(raised, 0, "the helper never ran as euid 0: the attack was not reproduced")
    }

    func testRootOnlySocketRefusesOthers() throws {
        // The server's own mode (no group configured): 0600.
        XCTAssertEqual(try runAsNobody(), ["CONNECT-ERROR \(EACCES)"])
    }
}
