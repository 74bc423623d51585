// Three real agents in three network namespaces push to a real controller in a fourth; one
// namespace is degraded (tbf queue drops on its loopback) and must rank last through the
// extender; a stopped agent must go stale and be filtered with a reason.
//
// Addresses are 198.18.N.0/24 (RFC 2544 benchmarking range) on veth pairs inside namespaces this
// test creates; nothing leaves the machine.
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class FleetTests: XCTestCase {
    var dir: URL!
    var namespaces: [ScratchNetns] = []
    var daemons: [DaemonProcess] = []

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-fleet-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        for d in daemons { d.stop() }
        daemons = []
        namespaces = []
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func testDegradedNodeRanksLastAndAStoppedAgentIsFilteredAsStale() throws {
        let ctl = try ScratchNetns(prefix: "edgectl")
        namespaces.append(ctl)
        let token = "fleet-test-token-\(UUID().uuidString)"
        try token.write(toFile: path("token"), atomically: true, encoding: .utf8)

        try """
        [server]
        listen = "0.0.0.0:8477"
        token_file = "\(path("token"))"
        [rpc]
        socket = "\(path("controller.sock"))"
        group = ""
        [registry]
        stale_after = "3s"
        """.write(toFile: path("controller.toml"), atomically: true, encoding: .utf8)
        let controller = try DaemonProcess(try Products.path("edge-controller"), ["--config", path("controller.toml")], netns: ctl.name)
        daemons.append(controller)
        XCTAssertTrue(controller.waitUntil { FileManager.default.fileExists(atPath: self.path("controller.sock")) }, controller.log)

        var agents: [DaemonProcess] = []
        var nodeNS: [ScratchNetns] = []
        for i in 1...3 {
            let ns = try ScratchNetns(prefix: "edgenode\(i)")
            namespaces.append(ns)
            nodeNS.append(ns)
            let (a, b) = ("efc\(i)\(UInt16.random(in: 0...9999))", "efn\(i)\(UInt16.random(in: 0...9999))")
            try sh(["ip", "link", "add", a, "netns", ctl.name, "type", "veth", "peer", "name", b, "netns", ns.name])
            try ctl.run(["ip", "addr", "add", "198.18.\(i).1/24", "dev", a])
            try ctl.run(["ip", "link", "set", a, "up"])
            try ns.run(["ip", "addr", "add", "198.18.\(i).2/24", "dev", b])
            try ns.run(["ip", "link", "set", b, "up"])
            try """
            [agent]
            node_name = "node-\(i)"
            [telemetry]
            interval = "250ms"
            window = "6s"
            [rpc]
            socket = "\(path("agent\(i).sock"))"
            group = ""
            [metrics]
            listen = ""
            [controller]
            url = "http://198.18.\(i).1:8477"
            token_file = "\(path("token"))"
            push_interval = "500ms"
            timeout = "400ms"
            """.write(toFile: path("agent\(i).toml"), atomically: true, encoding: .utf8)
            let agent = try DaemonProcess(try Products.path("edge-agent"), ["--config", path("agent\(i).toml")], netns: ns.name)
            daemons.append(agent)
            agents.append(agent)
            XCTAssertTrue(agent.waitUntil { FileManager.default.fileExists(atPath: self.path("agent\(i).sock")) }, agent.log)
        }

        // same load everywhere; node-3's loopback is a 20 Mbit/s tbf with a short queue
        try TCPLoad.constrainLoopback(nodeNS[2])
        let loads = nodeNS.map { ns in
            Thread { _ = try? TCPLoad.run(in: ns, conns: 4, seconds: 3, mode: "bulk") }
        }
        let done = DispatchGroup()
        for t in loads { done.enter(); Thread.detachNewThread { t.main(); done.leave() } }
        done.wait()
        Thread.sleep(forTimeInterval: 1.5) // a few more pushes carry the loaded windows

        let rpc = RPCClient(path: path("controller.sock"), timeout: .seconds(5))
        let nodes: NodesListResult = try rpc.call("nodes.list")
        XCTAssertEqual(Set(nodes.nodes.map(\.node)), ["node-1", "node-2", "node-3"], controller.log)
        let names = ["node-1", "node-2", "node-3"]
        let dry: ExtenderDryRunResult = try rpc.call("extender.dryrun",
                                                     params: ExtenderDryRunParams(pod: Self.pod, nodeNames: names))
        XCTAssertEqual(Set(dry.passed), Set(names), "all fresh: \(dry.failed) \(dry.failedAndUnresolvable)")
        let last = try XCTUnwrap(dry.priorities.last)
        XCTAssertEqual(last.node, "node-3", "degraded node ranks last: \(dry.priorities)")
        XCTAssertLessThan(last.priority, dry.priorities[0].priority)

        // the same through kube-scheduler's HTTP verb, from inside the controller's namespace
        let body = #"{"Pod":{"metadata":{"name":"web-1","namespace":"default"}},"Nodes":null,"NodeNames":["node-1","node-2","node-3"]}"#
        let http = try ctl.run(["python3", "-c", """
        import sys, urllib.request
        r = urllib.request.Request("http://127.0.0.1:8477/prioritize", data=sys.argv[1].encode(), headers={"Content-Type": "application/json"})
        print(urllib.request.urlopen(r, timeout=5).read().decode())
        """, body])
        let list = try JSONSerialization.jsonObject(with: Data(http.stdout.utf8)) as? [[String: Any]] ?? []
        let scores = Dictionary(uniqueKeysWithValues: list.compactMap { e -> (String, Int)? in
            guard let h = e["Host"] as? String, let s = e["Score"] as? Int else { return nil }
            return (h, s)
        })
        XCTAssertEqual(scores.count, 3, http.stdout)
        XCTAssertLessThan(scores["node-3", default: 99], min(scores["node-1", default: -1], scores["node-2", default: -1]), http.stdout)

        // stop node-2's agent: after stale_after it is filtered, with the reason
        agents[1].stop()
        Thread.sleep(forTimeInterval: 4)
        let after: ExtenderDryRunResult = try rpc.call("extender.dryrun",
                                                       params: ExtenderDryRunParams(pod: Self.pod, nodeNames: names))
        let filtered = (after.failed + after.failedAndUnresolvable).first { $0.node == "node-2" }
        XCTAssertNotNil(filtered, "stale node filtered: \(after)")
        XCTAssertTrue(filtered?.reason.contains("stale") ?? false, filtered?.reason ?? "")
        XCTAssertTrue(after.passed.contains("node-1") && after.passed.contains("node-3"))
    }

    static let pod: JSONValue = .object([
        "metadata": .object(["name": .string("web-1"), "namespace": .string("default")]),
        "spec": .object(["containers": .array([.object(["name": .string("web"), "image": .string("nginx")])])]),
    ])
}
