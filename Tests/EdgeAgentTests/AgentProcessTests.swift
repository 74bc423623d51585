// The real edge-agent binary in a network namespace made for the test: traffic inside the
// namespace must show up, through the agent's own RPC socket, as RTT samples, retransmits,
// drops by reason and run-queue latency; bad clients must not stop it answering.
import EdgeAPI
import EdgeRPC
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import XCTest

final class AgentProcessTests: XCTestCase {
    static let loadScript = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/tcp_load.py").path

    var dir: URL!
    var ns: ScratchNetns!
    var agent: DaemonProcess!
    var socket: String { dir.appendingPathComponent("agent.sock").path }

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-agent-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = """
        [agent]
        node_name = "test-node"
        [telemetry]
        interval = "200ms"
        window = "10s"
        [rpc]
        socket = "\(socket)"
        group = ""
        [metrics]
        listen = ""
        """
        try config.write(to: dir.appendingPathComponent("agent.toml"), atomically: true, encoding: .utf8)
        ns = try ScratchNetns()
        agent = try DaemonProcess(try Products.path("edge-agent"),
                                  ["--config", dir.appendingPathComponent("agent.toml").path], netns: ns.name)
        let up = agent.waitUntil { FileManager.default.fileExists(atPath: self.socket) }
        XCTAssertTrue(up, "agent did not open its socket:\n\(agent.log)")
    }

    override func tearDown() async throws {
        agent?.stop()
        agent = nil
        ns = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func client() -> RPCClient { RPCClient(path: socket, timeout: .seconds(5)) }

    func testTrafficInTheAgentsNamespaceArrivesThroughTheSocket() throws {
        let status: AgentStatus = try client().call("agent.status")
        XCTAssertEqual(status.node, "test-node")
        XCTAssertEqual(status.telemetry.missing, [])
        XCTAssertEqual(status.telemetry.netns, "self")

        try TCPLoad.constrainLoopback(ns)
        try ns.run(["python3", Self.loadScript, "--conns", "4", "--seconds", "2", "--mode", "bulk"])
        Thread.sleep(forTimeInterval: 0.5) // one more tick folds the last interval in

        let w: TelemetryWindow = try client().call("telemetry.get", params: TelemetryGetParams(peers: 5))
        XCTAssertEqual(w.node, "test-node")
        XCTAssertGreaterThan(w.rttSamples, 50)
        let p50 = try XCTUnwrap(w.rttP50Ms), p99 = try XCTUnwrap(w.rttP99Ms)
        XCTAssertGreaterThan(p50, 0)
        XCTAssertGreaterThanOrEqual(p99, p50)
        XCTAssertGreaterThan(w.retransmits, 0, "tbf drops cause retransmits")
        XCTAssertGreaterThan(w.segmentsOut, 0)
        XCTAssertGreaterThan(try XCTUnwrap(w.retransRate), 0)
        XCTAssertTrue(w.drops.contains { $0.reason == "QDISC_DROP" && $0.count > 0 }, "\(w.drops)")
        XCTAssertGreaterThan(w.dropRate, 0)
        XCTAssertGreaterThan(w.runqlatSamples, 0)
        XCTAssertNotNil(w.runqlatP95Ms)
        XCTAssertNotNil(w.cpuUtilization)
        XCTAssertEqual(w.peers.first?.address, "127.0.0.1")

        let reasons: [DropReasonInfo] = try client().call("telemetry.reasons")
        XCTAssertTrue(reasons.contains { $0.name == "QDISC_DROP" && $0.windowCount > 0 })
    }

    func testBadClientsDoNotStopTheAgent() throws {
        // oversized frame, garbage, a half-open client, then 100 concurrent well-behaved clients
        let big = try client()
        try big.sendRaw(Data(repeating: UInt8(ascii: "a"), count: 2 << 20) + Data("\n".utf8))
        let answer = try JSONSerialization.jsonObject(with: big.receiveFrame()) as? [String: Any]
        XCTAssertEqual((answer?["error"] as? [String: Any])?["code"] as? Int, -32600)

        let garbage = client()
        try garbage.sendRaw(Data([0xFF, 0x00, 0x7B, 0x0A]))
        let g = try JSONSerialization.jsonObject(with: garbage.receiveFrame()) as? [String: Any]
        XCTAssertEqual((g?["error"] as? [String: Any])?["code"] as? Int, -32700)

        let halfOpen = client()
        try halfOpen.sendRaw(Data("{\"jsonrpc\":\"2.0\",\"id\":1,\"meth".utf8))

        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 100) { _ in
            do {
                let s: AgentStatus = try self.client().call("agent.status")
                if s.node != "test-node" { failures.withLock { $0 += 1 } }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        XCTAssertEqual(failures.withLock { $0 }, 0)
        XCTAssertTrue(agent.process.isRunning)
        withExtendedLifetime(halfOpen) {}
    }

    func testWritesAreRefusedAndUnknownMethodsNamed() throws {
        XCTAssertThrowsError(try client().callRaw("no.such.method")) { error in
            XCTAssertEqual((error as? RPCClientError)?.serverErrorCode, .methodNotFound, "\(error)")
        }
        XCTAssertThrowsError(try client().call("telemetry.get", params: TelemetryGetParams(peers: -1), as: TelemetryWindow.self)) { error in
            XCTAssertEqual((error as? RPCClientError)?.serverErrorCode, .invalidParams, "\(error)")
        }
    }

    func testReloadKeepsTheOldConfigOnErrorsAndAppliesDropWeights() throws {
        let configURL = dir.appendingPathComponent("agent.toml")
        let good = try String(contentsOf: configURL, encoding: .utf8)
        try "[telemetry]\ninterval = \"soon\"\n".write(to: configURL, atomically: true, encoding: .utf8)
        kill(agent.process.processIdentifier, SIGHUP)
        XCTAssertTrue(agent.waitUntil(timeout: 5) { self.agent.log.contains("reload refused") }, agent.log)
        XCTAssertTrue(agent.log.contains("telemetry.interval"), "the refusal names the key: \(agent.log)")
        let s: AgentStatus = try client().call("agent.status")
        XCTAssertEqual(s.node, "test-node", "still serving with the old config")

        try (good + "\n[telemetry.drop_weights]\nQDISC_DROP = 0.25\n")
            .replacingOccurrences(of: "[telemetry]\ninterval", with: "[telemetry]\ninterval")
            .write(to: configURL, atomically: true, encoding: .utf8)
        kill(agent.process.processIdentifier, SIGHUP)
        XCTAssertTrue(agent.waitUntil(timeout: 5) { self.agent.log.contains("drop weights applied") }, agent.log)
        let reasons: [DropReasonInfo] = try client().call("telemetry.reasons")
        XCTAssertEqual(reasons.first { $0.name == "QDISC_DROP" }?.weight, 0.25)
        XCTAssertEqual(reasons.first { $0.name == "NO_SOCKET" }?.weight, 1.0)
    }

    func testSystemdNotificationsReadyStatusWatchdogStopping() throws {
        // a second agent (own socket) started the way systemd starts a Type=notify unit
        agent.stop()
        let notify = try NotifySocket()
        let watched = try DaemonProcess(try Products.path("edge-agent"),
                                        ["--config", dir.appendingPathComponent("agent.toml").path], netns: ns.name,
                                        environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
        XCTAssertTrue(notify.waitFor("READY=1"), "READY=1 after BPF attach and socket listen:\n\(watched.log)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: socket), "the socket listens before READY=1")
        XCTAssertTrue(notify.drain().contains { $0.contains("STATUS=rtt p99") }, "\(notify.drain())")
        XCTAssertTrue(notify.waitFor("WATCHDOG=1", timeout: 3), "watchdog pinged from the telemetry tick")
        watched.stop()
        XCTAssertTrue(notify.waitFor("STOPPING=1", timeout: 2), "\(notify.drain())")
        XCTAssertEqual(watched.process.terminationStatus, 0, watched.log)
    }

    func testSIGTERMDetachesAndRemovesTheSocket() throws {
        // signal handling starts with the service group, logged as "ready"
        XCTAssertTrue(agent.waitUntil { self.agent.log.contains("edge-agent ready") }, agent.log)
        agent.stop()
        XCTAssertEqual(agent.process.terminationStatus, 0, agent.log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket))
        XCTAssertTrue(agent.log.contains("BPF programs detached"), agent.log)
    }
}

/// A tiny lock-protected box for counting across concurrentPerform iterations.
final class Locked<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
