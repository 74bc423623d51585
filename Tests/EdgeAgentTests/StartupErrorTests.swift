// The real daemons started where they cannot run (issue 17 items 5 and 7): on a port that is
// already taken and with their socket in a read-only directory, each must end with one line
// naming what it was doing, the address or path, and the config key that set it. And whatever
// a daemon refuses at start, `--check-config` refuses too, with the same key.
// Root (network namespaces, a read-only tmpfs) and BTF (the agent loads its programs first).
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class StartupErrorTests: XCTestCase {
    var dir: URL!
    var ns: ScratchNetns!
    var mounts: [String] = []
    var holders: [DaemonProcess] = []

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-starterr-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        ns = try ScratchNetns()
    }

    override func tearDown() async throws {
        holders.forEach { $0.stop() }
        holders = []
        for m in mounts { _ = try? sh(["umount", m], check: false) }
        mounts = []
        ns = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    // MARK: helpers

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs a daemon inside the namespace until it exits (20 s at most).
    func runDaemon(_ name: String, _ args: [String]) throws -> ShellResult {
        try sh(["timeout", "20", "ip", "netns", "exec", ns.name, try Products.path(name)] + args, check: false)
    }

    /// The one output line that carries `needle`, failing the test when there is none.
    func line(containing needle: String, in r: ShellResult, file: StaticString = #filePath, line: UInt = #line) -> String {
        let all = (r.stderr + r.stdout).split(separator: "\n").map(String.init)
        guard let l = all.first(where: { $0.contains(needle) }) else {
            XCTFail("no line with '\(needle)' (exit \(r.status)):\n\(r.stderr)\(r.stdout)", file: file, line: line)
            return ""
        }
        return l
    }

    /// Takes 127.0.0.1:`port` in the namespace with a plain listener.
    func occupy(port: Int) throws {
        let script = "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',\(port)))\ns.listen()\ntime.sleep(60)"
        let holder = try DaemonProcess("/usr/bin/python3", ["-c", script], netns: ns.name)
        holders.append(holder)
        let up = holder.waitUntil { (try? self.ns.run(["ss", "-Hltn", "sport = :\(port)"]).stdout.isEmpty == false) ?? false }
        XCTAssertTrue(up, "the port holder did not listen: \(holder.log)")
    }

    /// A read-only directory (its own tmpfs): root can write anywhere else.
    func readOnlyDirectory() throws -> String {
        let path = dir.appendingPathComponent("ro").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try sh(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "edgetest-ro", path])
        mounts.append(path)
        return path
    }

    func controllerConfig(listen: String = "127.0.0.1:8477", socket: String? = nil, token: String? = nil) throws -> String {
        let tokenPath = try token ?? write("token", "startup-test-token\n")
        return try write("controller.toml", """
        [server]
        listen = "\(listen)"
        token_file = "\(tokenPath)"
        [rpc]
        socket = "\(socket ?? dir.appendingPathComponent("controller.sock").path)"
        group = ""
        """)
    }

    func agentConfig(_ extra: String = "", socket: String? = nil, metrics: String = "") throws -> String {
        try write("agent.toml", """
        [agent]
        node_name = "startup-test"
        state_dir = "\(dir.appendingPathComponent("state").path)"
        [rpc]
        socket = "\(socket ?? dir.appendingPathComponent("agent.sock").path)"
        group = ""
        [metrics]
        listen = "\(metrics)"
        [shaping]
        enabled = false
        \(extra)
        """)
    }

    // MARK: item 5: listeners

    func testControllerOnAnOccupiedPortNamesTheAddressAndKey() throws {
        try occupy(port: 8477)
        let r = try runDaemon("edge-controller", ["--config", try controllerConfig()])
        XCTAssertEqual(r.status, 1, r.stderr)
        let l = line(containing: "cannot listen", in: r)
        XCTAssertTrue(l.contains("cannot listen on 127.0.0.1:8477 (server.listen): bind: Address already in use (errno 98)"), l)
    }

    func testAgentOnAnOccupiedMetricsPortNamesTheAddressAndKey() throws {
        try occupy(port: 9464)
        let r = try runDaemon("edge-agent", ["--config", try agentConfig(metrics: "127.0.0.1:9464")])
        XCTAssertEqual(r.status, 78, r.stderr)
        let l = line(containing: "cannot listen", in: r)
        XCTAssertEqual(l, "edge-agent: cannot listen on 127.0.0.1:9464 (metrics.listen): bind: Address already in use (errno 98)")
    }

    func testControllerSocketInAReadOnlyDirectoryNamesThePathAndKey() throws {
        let sock = try readOnlyDirectory() + "/controller.sock"
        let r = try runDaemon("edge-controller", ["--config", try controllerConfig(socket: sock)])
        XCTAssertEqual(r.status, 1, r.stderr)
        let l = line(containing: "cannot listen", in: r)
        XCTAssertTrue(l.contains("cannot listen on \(sock) (rpc.socket): bind: Read-only file system (errno 30)"), l)
    }

    func testAgentSocketUnderAReadOnlyDirectoryNamesThePathAndKey() throws {
        // The socket's own directory is missing and cannot be made: the step that failed is named.
        let ro = try readOnlyDirectory()
        let sock = ro + "/edge-agent/agent.sock"
        let r = try runDaemon("edge-agent", ["--config", try agentConfig(socket: sock)])
        XCTAssertEqual(r.status, 78, r.stderr)
        let l = line(containing: "cannot listen", in: r)
        XCTAssertEqual(l, "edge-agent: cannot listen on \(sock) (rpc.socket): cannot create directory \(ro)/edge-agent: Read-only file system")
    }

    // MARK: item 7: --check-config refuses what the daemon refuses

    /// `--check-config` and the daemon on the same file: both refuse, both name `key`.
    func assertBothRefuse(_ daemon: String, config: String, key: String, checkStatus: Int32, daemonStatus: Int32,
                          file: StaticString = #filePath, line l: UInt = #line) throws {
        let check = try runDaemon(daemon, ["--check-config", "--config", config])
        XCTAssertEqual(check.status, checkStatus, "--check-config: \(check.stderr)", file: file, line: l)
        XCTAssertFalse(line(containing: key, in: check, file: file, line: l).isEmpty, file: file, line: l)
        let start = try runDaemon(daemon, ["--config", config])
        XCTAssertEqual(start.status, daemonStatus, "daemon: \(start.stderr)", file: file, line: l)
        XCTAssertFalse(line(containing: key, in: start, file: file, line: l).isEmpty, file: file, line: l)
    }

    func testNoTokenOnAWildcardListenerIsRefusedByBoth() throws {
        let config = try write("controller.toml", """
        [server]
        listen = "0.0.0.0:8477"
        token_file = ""
        [rpc]
        socket = "\(dir.appendingPathComponent("controller.sock").path)"
        """)
        try assertBothRefuse("edge-controller", config: config, key: "server.token_file", checkStatus: 2, daemonStatus: 2)
        let check = try runDaemon("edge-controller", ["--check-config", "--config", config])
        XCTAssertTrue(check.stderr.contains("is not a loopback address"), check.stderr)
    }

    func testMissingTokenFileIsRefusedByBoth() throws {
        let missing = dir.appendingPathComponent("no-such-token").path
        let config = try controllerConfig(token: missing)
        try assertBothRefuse("edge-controller", config: config, key: "server.token_file \(missing)", checkStatus: 2, daemonStatus: 1)
    }

    func testEmptyTokenFileIsRefusedByBoth() throws {
        let config = try controllerConfig(token: try write("empty-token", "\n"))
        try assertBothRefuse("edge-controller", config: config, key: "server.token_file", checkStatus: 2, daemonStatus: 1)
    }

    func testPinPathWithDotDotIsRefusedByBoth() throws {
        let config = try agentConfig("pin_path = \"/sys/fs/bpf/../edgetest\"")
        try assertBothRefuse("edge-agent", config: config, key: "shaping.pin_path", checkStatus: 78, daemonStatus: 78)
    }

    func testAgentTokenFileMissingIsRefusedByBoth() throws {
        let missing = dir.appendingPathComponent("no-such-token").path
        let config = try write("agent.toml", """
        [agent]
        node_name = "startup-test"
        [rpc]
        socket = "\(dir.appendingPathComponent("agent.sock").path)"
        group = ""
        [metrics]
        listen = ""
        [controller]
        url = "http://127.0.0.1:8477"
        token_file = "\(missing)"
        [shaping]
        enabled = false
        """)
        try assertBothRefuse("edge-agent", config: config, key: "controller.token_file", checkStatus: 78, daemonStatus: 78)
    }
}
