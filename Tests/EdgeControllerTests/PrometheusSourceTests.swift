// edge-controller with [source] kind = "prometheus", end to end with real processes: three agents
// in their own network namespaces export /metrics on 198.18.N.2:9464, Debian's prometheus scrapes
// them every 0.5 s (as often as FleetTests' agents push) from the controller's namespace (so it reaches every node over the fleet's
// veths), and the controller reads them back with PromQL. Nothing pushes.
//
// Checked: every node appears with real signals; the degraded node (tbf on its loopback) ranks
// last through /prioritize; a stopped agent drops out of Prometheus's answers, goes stale and is
// filtered with a reason; a stopped Prometheus is logged once and the controller keeps serving.
import EdgeController
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class PrometheusSourceTests: XCTestCase {
    static let prometheus = "/usr/bin/prometheus"
    /// Not 9090: the Debian package runs its own server there (in the host namespace).
    static let prometheusListen = "127.0.0.1:19090"
    var fleet: Fleet?

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        try requireExecutable(Self.prometheus, package: "prometheus")
        fleet = try Fleet(name: "prom")
    }

    override func tearDown() async throws {
        fleet?.tearDown()
        fleet = nil
    }

    /// A scrape config as an operator would write it: the node name is a target label.
    func writePrometheusConfig(_ fleet: Fleet, nodes: [FleetNode]) throws -> String {
        let targets = nodes.map { n in
            """
                  - targets: ["\(n.nodeAddress):9464"]
                    labels:
                      node: "node-\(n.index)"
            """
        }.joined(separator: "\n")
        let path = fleet.path("prometheus.yml")
        try """
        global:
          scrape_interval: 500ms
          scrape_timeout: 400ms
        scrape_configs:
          - job_name: edgenode
            static_configs:
        \(targets)

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Polls Prometheus (from the controller's namespace) until it has scraped `agents` agents whose
    /// telemetry is up. Prometheus hands new targets to its scrapers up to 5 s after start; waiting
    /// here keeps that out of the controller's own time to see the nodes.
    func waitUntilScraped(_ fleet: Fleet, agents: Int, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let r = try? fleet.controllerNetns.run(["python3", "-c", """
                import json, sys, urllib.parse, urllib.request
                url = sys.argv[1] + "/api/v1/query?query=" + urllib.parse.quote("count(edgenode_agent_up == 1)")
                result = json.load(urllib.request.urlopen(url, timeout=1))["data"]["result"]
                print(result[0]["value"][1] if result else "0")
                """, "http://\(Self.prometheusListen)"], check: false)
            if r?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(agents) { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return false
    }

    func testNodesFromPrometheusRankAndGoStale() throws {
        let testStart = Date()
        let fleet = try XCTUnwrap(fleet)
        let nodes = try (1...3).map { try fleet.addNode($0) }
        let names = nodes.map { "node-\($0.index)" }

        // Prometheus first: it starts while the agents load their BPF programs.
        let config = try writePrometheusConfig(fleet, nodes: nodes)
        let prometheus = try fleet.launch(Self.prometheus, [
            "--config.file=\(config)", "--storage.tsdb.path=\(fleet.path("tsdb"))",
            "--web.listen-address=\(Self.prometheusListen)", "--log.level=warn",
        ], in: fleet.controllerNetns)
        var agents: [DaemonProcess] = []
        for node in nodes {
            agents.append(try fleet.startAgent("node-\(node.index)", in: node.netns, FleetAgentSettings(
                window: "6s", metricsListen: "\(node.nodeAddress):9464")))
        }
        XCTAssertTrue(waitUntilScraped(fleet, agents: nodes.count, timeout: 20), "prometheus scrapes the agents: \(prometheus.log)")

        let controllerStart = Date()
        let controller = try fleet.startController(FleetControllerSettings(
            listen: "127.0.0.1:8477", authenticated: false, staleAfter: "3s", extraSections: """
            [source]
            kind = "prometheus"
            prometheus_url = "http://\(Self.prometheusListen)"
            query_interval = "250ms"
            timeout = "200ms"
            matchers = 'job="edgenode"'

            """, logLevel: "debug")) // debug: every poll logs its round trip
        func fresh() -> Set<String> { Set((fleet.nodeList() ?? []).filter { !$0.stale }.map(\.node)) }
        let deadline = Date().addingTimeInterval(15)
        while fresh() != Set(names) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertEqual(fresh(), Set(names), "all nodes appear from Prometheus:\n\(controller.log)\n\(prometheus.log)")
        let appearedAfter = Date().timeIntervalSince(controllerStart)

        // same load everywhere; node-3's loopback is a 20 Mbit/s tbf with a short queue
        try fleet.loadWithOneDegraded(nodes, degraded: 2)
        Thread.sleep(forTimeInterval: 1.5) // a few more scrapes (every 0.5 s) carry the loaded windows

        let list = fleet.nodeList() ?? []
        XCTAssertEqual(Set(list.map(\.node)), Set(names))
        for n in list {
            XCTAssertFalse(n.stale, "\(n)")
            XCTAssertEqual(n.agentVersion, TelemetryJoin.agentVersion)
            XCTAssertGreaterThan(n.reportCount, 1, "more than one scrape taken in: \(n)")
            let rtt = try XCTUnwrap(n[.rttP99], "RTT after TCP load: \(n)")
            XCTAssertTrue(rtt.isFinite && rtt > 0, "\(n)")
            let cpu = try XCTUnwrap(n[.cpu], "\(n)")
            XCTAssertTrue((0...1).contains(cpu), "\(n)")
            XCTAssertNotNil(n[.retransRate], "segments were sent: \(n)")
            let dropRateWeighted = try XCTUnwrap(n[.dropRateWeighted], "\(n)")
            XCTAssertTrue(dropRateWeighted.isFinite && dropRateWeighted >= 0, "\(n)")
        }
        let degraded = try XCTUnwrap(list.first { $0.node == "node-3" })
        XCTAssertGreaterThan((degraded[.dropRateWeighted] ?? 0) + (degraded[.retransRate] ?? 0), 0, "the tbf shows in the signals: \(degraded)")
        try fleet.assertRanksLast("node-3", of: names)

        // node-2's agent stops: Prometheus's scrape fails, its series go stale, the controller stops
        // refreshing node-2, which is filtered once registry.stale_after (3 s) has passed
        agents[1].stop()
        let filteredAfter = try fleet.assertFilteredAsStale("node-2", stillFresh: ["node-1", "node-3"], timeout: 8)

        // Prometheus stops: one warning for the whole outage, and the controller keeps serving.
        // Counted from here: on a loaded machine an earlier poll may have timed out (and been
        // logged, and its recovery too) while Prometheus was up.
        let logBefore = controller.log
        prometheus.stop()
        Thread.sleep(forTimeInterval: 1) // four polls fail
        let log = controller.log
        let outageLog = String(log.dropFirst(logBefore.count))
        XCTAssertEqual(outageLog.components(separatedBy: "cannot read telemetry from Prometheus").count - 1, 1,
                       "the outage is logged once: \(outageLog)")
        XCTAssertTrue(controller.process.isRunning, log)
        XCTAssertNotNil(fleet.nodeList(), "the controller still answers RPC")

        XCTAssertTrue(log.contains("first Prometheus poll:"), log)
        // "Prometheus poll: … round trip 3.1 ms": one scrape-time query, then 10 gauge queries at once
        let trips = log.components(separatedBy: "\n").filter { $0.contains("] Prometheus poll:") }.compactMap { line -> Double? in
            guard let r = line.range(of: "round trip ") else { return nil }
            return Double(line[r.upperBound...].prefix { $0.isNumber || $0 == "." })
        }.sorted()
        XCTAssertGreaterThan(trips.count, 10, "polls logged at debug: \(log)")
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        let p50 = trips.isEmpty ? .nan : trips[trips.count / 2]
        let p99 = trips.isEmpty ? .nan : trips[min(trips.count - 1, trips.count * 99 / 100)]
        print("prometheus source: 3 nodes fresh \(f(appearedAfter)) s after the controller started; poll round trip "
            + "(11 queries) p50 \(f(p50)) ms, p99 \(f(p99)) ms over \(trips.count) polls; stopped agent filtered as "
            + "stale \(f(filteredAfter)) s after it stopped; test \(f(Date().timeIntervalSince(testStart))) s")
    }
}
