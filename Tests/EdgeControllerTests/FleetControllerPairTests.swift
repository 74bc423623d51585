// The deployment the shipped KubeSchedulerConfiguration assumes, with the real binaries: an
// edge-controller per control-plane host and every agent pushing to all of them (controller.urls).
// Both controllers must end up with the same node set, a hung or dead controller must not hold up
// the pushes to the other, and a controller restarted from its state file must know the fleet at
// once and follow the warm-up rule on /readyz.
//
// Controllers run in the fleet's controller namespace on ports 8477/8478; agents in their own
// namespaces reach it over veths (198.18.N.0/24). A third "controller" on 8479 accepts connections
// and never answers (a hung controller).
import EdgeAPI
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class FleetControllerPairTests: XCTestCase {
    var fleet: Fleet?

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        fleet = try Fleet(name: "pair")
    }

    override func tearDown() async throws {
        fleet?.tearDown()
        fleet = nil
    }

    /// Writes `<name>.toml` for a controller on `port` and starts it; waits for its RPC socket.
    func startController(_ name: String, port: Int, registry: String = "state_file = \"\"") throws -> DaemonProcess {
        let fleet = try XCTUnwrap(fleet)
        let socket = fleet.path("\(name).sock")
        try? FileManager.default.removeItem(atPath: socket)
        try """
        [server]
        listen = "0.0.0.0:\(port)"
        token_file = "\(fleet.tokenPath)"
        [rpc]
        socket = "\(socket)"
        group = ""
        [registry]
        stale_after = "2s"
        \(registry)
        """.write(toFile: fleet.path("\(name).toml"), atomically: true, encoding: .utf8)
        let d = try fleet.launch(try Products.path("edge-controller"), ["--config", fleet.path("\(name).toml")], in: fleet.controllerNetns)
        XCTAssertTrue(d.waitUntil { FileManager.default.fileExists(atPath: socket) }, "\(name) did not start:\n\(d.log)")
        return d
    }

    func nodes(_ name: String) -> [NodeSummary]? {
        guard let fleet else { return nil }
        let list: NodesListResult? = try? RPCClient(path: fleet.path("\(name).sock"), timeout: .seconds(1)).call("nodes.list")
        return list?.nodes
    }

    func reportCounts(_ name: String) -> [String: UInt64] {
        Dictionary(uniqueKeysWithValues: (nodes(name) ?? []).map { ($0.node, $0.reportCount) })
    }

    /// GET /readyz from inside the controller namespace: (HTTP status, body).
    func readyz(port: Int) throws -> (status: Int, body: String) {
        let fleet = try XCTUnwrap(fleet)
        let r = try fleet.controllerNetns.run(["python3", "-c", """
        import sys, urllib.request, urllib.error
        try:
            r = urllib.request.urlopen(sys.argv[1], timeout=5); print(r.status); print(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code); print(e.read().decode())
        """, "http://127.0.0.1:\(port)/readyz"])
        let lines = r.stdout.split(separator: "\n", maxSplits: 1).map(String.init)
        return (Int(lines.first ?? "") ?? 0, lines.count > 1 ? lines[1] : "")
    }

    func waitFor(_ timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return condition()
    }

    func testAgentsPushingToTwoControllersGiveBothTheSameNodeSet() throws {
        let fleet = try XCTUnwrap(fleet)
        try fleet.writeToken()
        let a = try startController("ctl-a", port: 8477)
        var b: DaemonProcess? = try startController("ctl-b", port: 8478)
        // a hung controller: the kernel completes the handshake (listen backlog), nobody ever reads
        _ = try fleet.launch("/usr/bin/python3", ["-c", """
        import socket, time
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 8479)); s.listen(128); time.sleep(600)
        """], in: fleet.controllerNetns)

        let names = (1...3).map { "node-\($0)" }
        for i in 1...3 {
            let node = try fleet.addNode(i)
            var s = FleetAgentSettings(window: "5s", shaping: false, controllerURL: "http://\(node.controllerAddress):8477")
            s.controllerURLs = ["http://\(node.controllerAddress):8478", "http://\(node.controllerAddress):8479"]
            _ = try fleet.startAgent(names[i - 1], in: node.netns, s)
        }
        let allFresh = { (name: String) in Set((self.nodes(name) ?? []).filter { !$0.stale }.map(\.node)) == Set(names) }
        XCTAssertTrue(waitFor(20) { allFresh("ctl-a") && allFresh("ctl-b") },
                      "a: \(nodes("ctl-a") ?? []) b: \(nodes("ctl-b") ?? [])\n\(a.log)")
        XCTAssertEqual(Set((nodes("ctl-a") ?? []).map(\.node)), Set((nodes("ctl-b") ?? []).map(\.node)))

        // Pushes every 500 ms with a 400 ms timeout: the hung third target costs a timeout per push
        // on its own loop only. Over 3 s each good controller gets close to 6 reports per node.
        let before = (reportCounts("ctl-a"), reportCounts("ctl-b"))
        Thread.sleep(forTimeInterval: 3)
        let after = (reportCounts("ctl-a"), reportCounts("ctl-b"))
        for n in names {
            let gainA = (after.0[n] ?? 0) - (before.0[n] ?? 0), gainB = (after.1[n] ?? 0) - (before.1[n] ?? 0)
            XCTAssertGreaterThanOrEqual(gainA, 4, "\(n) reports to ctl-a in 3 s with a hung third controller")
            XCTAssertGreaterThanOrEqual(gainB, 4, "\(n) reports to ctl-b in 3 s with a hung third controller")
        }

        // one controller dies: the other keeps the whole fleet fresh
        if let pid = b?.process.processIdentifier { kill(pid, SIGKILL) }
        b?.process.waitUntilExit()
        b = nil
        let beforeKill = reportCounts("ctl-a")
        Thread.sleep(forTimeInterval: 3)
        let afterKill = reportCounts("ctl-a")
        for n in names {
            XCTAssertGreaterThanOrEqual((afterKill[n] ?? 0) - (beforeKill[n] ?? 0), 4, "\(n) reports to ctl-a with ctl-b dead")
        }
        XCTAssertTrue(allFresh("ctl-a"))
        print("pair: 3 agents -> 2 controllers + 1 hung; per node in 3 s: ctl-a +\(names.map { (after.0[$0] ?? 0) - (before.0[$0] ?? 0) }), "
            + "ctl-b +\(names.map { (after.1[$0] ?? 0) - (before.1[$0] ?? 0) }); with ctl-b killed ctl-a +\(names.map { (afterKill[$0] ?? 0) - (beforeKill[$0] ?? 0) })")
    }

    func testTheRegistrySurvivesARestartOfTheRealControllerAndReadyzWaitsForTheFleet() throws {
        let fleet = try XCTUnwrap(fleet)
        try fleet.writeToken()
        let state = fleet.path("registry.json")
        let registry = """
        state_file = "\(state)"
        save_interval = "1s"
        ready_share = 1.0
        warmup = "8s"
        """
        var controller = try startController("ctl", port: 8477, registry: registry)
        var links: [String] = []
        for i in 1...2 {
            let node = try fleet.addNode(i)
            links.append(node.controllerSideLink)
            _ = try fleet.startAgent("node-\(i)", in: node.netns, FleetAgentSettings(
                window: "5s", shaping: false, controllerURL: "http://\(node.controllerAddress):8477"))
        }
        XCTAssertTrue(waitFor(20) { (self.nodes("ctl") ?? []).filter { !$0.stale }.count == 2 }, controller.log)
        XCTAssertEqual(try readyz(port: 8477).status, 200, "nothing saved at the first start: ready")

        // node-2 is cut off, then the controller stops cleanly (its last save) and starts again
        try fleet.controllerNetns.run(["ip", "link", "set", links[1], "down"])
        let countsBefore = reportCounts("ctl")
        controller.stop()
        XCTAssertTrue(FileManager.default.fileExists(atPath: state), "no state file after a clean stop:\n\(controller.log)")
        controller = try startController("ctl", port: 8477, registry: registry)
        let restored = try XCTUnwrap(nodes("ctl"))
        XCTAssertEqual(Set(restored.map(\.node)), ["node-1", "node-2"], "the restarted controller knows the fleet at once")
        for n in restored {
            XCTAssertGreaterThanOrEqual(n.reportCount, countsBefore[n.node] ?? 0, "\(n.node): report count carried over")
        }
        XCTAssertTrue(controller.log.contains("restored 2 nodes from \(state)"), controller.log)

        // 1 of 2 saved nodes can report: not ready until the 8 s warm-up is over
        let early = try readyz(port: 8477)
        XCTAssertEqual(early.status, 503, early.body)
        XCTAssertTrue(early.body.contains("warming up"), early.body)
        let started = Date()
        XCTAssertTrue(waitFor(20) { (try? self.readyz(port: 8477).status) == 200 }, controller.log)
        let waited = Date().timeIntervalSince(started)
        let late = try readyz(port: 8477)
        XCTAssertTrue(late.body.contains("warm-up over: 1 of 2"), late.body)
        XCTAssertGreaterThan(waited, 4, "ready only after the warm-up")

        // a corrupt file: logged, set aside, the controller starts empty instead of failing
        controller.stop()
        try "{\"version\": 7}".write(toFile: state, atomically: true, encoding: .utf8)
        controller = try startController("ctl", port: 8477, registry: registry)
        XCTAssertTrue(controller.waitUntil(timeout: 5) { controller.log.contains("cannot restore the registry") }, controller.log)
        XCTAssertTrue(controller.log.contains("version 7, this controller reads version 1"), controller.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: state + ".bad"))
        XCTAssertTrue(controller.process.isRunning)
        print("restart: 2 nodes restored from \(state); /readyz 503 then 200 after \(String(format: "%.1f", waited)) s (warmup 8 s, 1 of 2 reported)")
    }
}
