// The shipped monitoring (packaging/monitoring) against real daemons: Debian's Prometheus runs
// the shipped prometheus.yml and edgenode-rules.yml unchanged (only the file_sd target files are
// written for the test), scraping two real agents (one shaping a class) and a real controller
// that answers real extender calls. Every dashboard panel's query, every recording rule and the
// series side of every alert must return series: a renamed metric fails here.
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class MonitoringTests: XCTestCase {
    static let prometheus = "/usr/bin/prometheus"
    static let promtool = "/usr/bin/promtool"
    static let listen = "127.0.0.1:19091"
    static let monitoring = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("packaging/monitoring")
    var fleet: Fleet?
    var pinPath: String?

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        try requireExecutable(Self.prometheus, package: "prometheus")
        fleet = try Fleet(name: "mon")
    }

    override func tearDown() async throws {
        fleet?.tearDown()
        fleet = nil
        if let pinPath { _ = try? sh(["rm", "-rf", pinPath], check: false) }
    }

    func file(_ name: String) -> String { Self.monitoring.appendingPathComponent(name).path }

    func testShippedFilesPassPromtool() throws {
        try requireExecutable(Self.promtool, package: "prometheus")
        let config = try sh([Self.promtool, "check", "config", file("prometheus.yml")], check: false)
        XCTAssertEqual(config.status, 0, config.stdout + config.stderr)
        let rules = try sh([Self.promtool, "check", "rules", file("edgenode-rules.yml")], check: false)
        XCTAssertEqual(rules.status, 0, rules.stdout + rules.stderr)
    }

    /// Every PromQL expression the shipped files hold, with where it came from. Grafana's
    /// variables get the values a fresh dashboard has: every node, a 1 m rate window.
    static func shippedQueries() throws -> [(origin: String, expr: String)] {
        var out: [(String, String)] = []
        let dash = try JSONSerialization.jsonObject(with: Data(contentsOf: monitoring.appendingPathComponent("edgenode-dashboard.json"))) as? [String: Any]
        for panel in dash?["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                guard let expr = target["expr"] as? String else { continue }
                let concrete = expr.replacingOccurrences(of: "$__rate_interval", with: "1m")
                    .replacingOccurrences(of: "$node", with: ".*")
                out.append(("panel \"\(panel["title"] ?? "?")\"", concrete))
            }
        }
        // the rules file: `record:`/`alert:` lines followed by `expr:`
        let rules = try String(contentsOf: monitoring.appendingPathComponent("edgenode-rules.yml"), encoding: .utf8)
        var name = ""
        for line in rules.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("- record: ") {
                name = String(line.dropFirst(10))
                out.append(("recorded series \(name)", name))
            } else if line.hasPrefix("- alert: ") {
                name = String(line.dropFirst(9))
            } else if line.hasPrefix("expr: ") {
                var expr = String(line.dropFirst(6))
                // an alert is `<series> <op> <threshold>`: its series side must exist
                if let r = expr.range(of: #"\s*(>|<|>=|<=|==|!=)\s*[0-9.]+$"#, options: .regularExpression) {
                    expr = String(expr[..<r.lowerBound])
                }
                out.append(("rule \(name)", expr))
            }
        }
        return out
    }

    /// Series count per expression, asked from inside the controller's namespace.
    func seriesCounts(_ fleet: Fleet, _ exprs: [String]) -> [Int] {
        let r = try? fleet.controllerNetns.run(["python3", "-c", """
            import json, sys, urllib.parse, urllib.request
            out = []
            for q in json.loads(sys.argv[2]):
                try:
                    url = sys.argv[1] + "/api/v1/query?query=" + urllib.parse.quote(q)
                    out.append(len(json.load(urllib.request.urlopen(url, timeout=2))["data"]["result"]))
                except Exception:
                    out.append(-1)
            print(json.dumps(out))
            """, "http://\(Self.listen)", String(decoding: try! JSONSerialization.data(withJSONObject: exprs), as: UTF8.self)],
            check: false)
        return (try? JSONSerialization.jsonObject(with: Data((r?.stdout ?? "").utf8)) as? [Int]) ?? exprs.map { _ in -1 }
    }

    func post(_ fleet: Fleet, _ path: String, _ body: String) throws -> ShellResult {
        try fleet.controllerNetns.run(["python3", "-c", """
            import sys, urllib.request, urllib.error
            r = urllib.request.Request(sys.argv[2], data=sys.argv[1].encode(), headers={"Content-Type": "application/json"})
            try:
                print(urllib.request.urlopen(r, timeout=5).read().decode())
            except urllib.error.HTTPError as e:
                print(e.code)
            """, body, "http://127.0.0.1:8477\(path)"])
    }

    func testEveryPanelAndRuleReturnsSeriesFromRealDaemons() throws {
        let fleet = try XCTUnwrap(fleet)
        let queries = try Self.shippedQueries()
        XCTAssertGreaterThan(queries.count, 30, "the dashboard and the rules were read: \(queries.count)")

        // the shipped files, unchanged; only the file_sd targets are the test's
        for f in ["prometheus.yml", "edgenode-rules.yml"] {
            try FileManager.default.copyItem(atPath: file(f), toPath: fleet.path(f))
        }
        let nodes = try (1...2).map { try fleet.addNode($0) }
        try nodes.map { n in "- targets: [\"\(n.nodeAddress):9464\"]\n  labels:\n    node: node-\(n.index)\n" }
            .joined().write(toFile: fleet.path("edgenode-agents.yml"), atomically: true, encoding: .utf8)
        try "- targets: [\"127.0.0.1:8477\"]\n".write(toFile: fleet.path("edgenode-controllers.yml"), atomically: true, encoding: .utf8)

        _ = try fleet.writeToken()
        // A CPU limit every node exceeds, so /filter really filters (a node without telemetry no
        // longer does: missing telemetry is not sickness, issue 16).
        _ = try fleet.startController(FleetControllerSettings(listen: "0.0.0.0:8477", extraSections: "[filter]\nmax_cpu = 0.0001\n"))
        let prometheus = try fleet.launch(Self.prometheus, [
            "--config.file=\(fleet.path("prometheus.yml"))", "--storage.tsdb.path=\(fleet.path("tsdb"))",
            "--web.listen-address=\(Self.listen)", "--log.level=warn",
        ], in: fleet.controllerNetns)

        // node-1 shapes its own address: Prometheus's scrapes of it pass through the class
        let nodeDevice = try XCTUnwrap(try nodes[0].netns.run(["ip", "-o", "link", "show"]).stdout
            .split(separator: "\n").compactMap { $0.split(separator: ":").dropFirst().first?.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix("efn") }?.split(separator: "@").first.map(String.init))
        pinPath = "/sys/fs/bpf/edgetest-mon-\(UInt32.random(in: 0...UInt32.max))"
        for n in nodes {
            var s = FleetAgentSettings(window: "10s", metricsListen: "\(n.nodeAddress):9464",
                                       controllerURL: "http://\(n.controllerAddress):8477")
            if n.index == 1 {
                s.shaping = true
                s.shapingDevice = nodeDevice
                s.shapingPinPath = pinPath
            } else {
                s.shaping = false
            }
            _ = try fleet.startAgent("node-\(n.index)", in: n.netns, s)
        }
        let set = try sh([try Products.path("edgectl"), "shape", "set", "\(nodes[0].nodeAddress)/32", "50M",
                          "--socket", fleet.agentSocket("node-1")], check: false)
        XCTAssertEqual(set.status, 0, set.stdout + set.stderr)

        // kube-scheduler's calls: placements, filtered nodes (the CPU limit above), a bad request
        let deadline = Date().addingTimeInterval(60)
        var counts: [Int] = []
        var round = 0
        repeat {
            _ = try fleet.prioritize(["node-1", "node-2"])
            _ = try post(fleet, "/filter", #"{"Pod":{"metadata":{"name":"web-1"}},"NodeNames":["node-1","node-2","ghost-node"]}"#)
            _ = try post(fleet, "/prioritize", "not json")
            round += 1
            if round % 4 == 0 {
                counts = seriesCounts(fleet, queries.map(\.expr))
                if counts.allSatisfy({ $0 > 0 }) { break }
            }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date() < deadline

        let empty = zip(queries, counts).filter { $0.1 <= 0 }.map { "\($0.0.origin): \($0.0.expr) (\($0.1 < 0 ? "query failed" : "no series"))" }
        XCTAssertTrue(empty.isEmpty, "queries without series after \(round) rounds:\n" + empty.joined(separator: "\n") + "\nprometheus:\n\(prometheus.log)")

        // not vacuous: a misspelt metric has no series
        XCTAssertEqual(seriesCounts(fleet, ["ebpf_rtt_p99_milliseconds_renamed"]), [0])

        // every rule loaded and evaluates without error
        let rules = try fleet.controllerNetns.run(["python3", "-c", """
            import json, sys, urllib.request
            groups = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/rules", timeout=2))["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            print(len(rules), [r["name"] for r in rules if r.get("health") != "ok"])
            """, "http://\(Self.listen)"]).stdout
        XCTAssertEqual(rules.trimmingCharacters(in: .whitespacesAndNewlines), "14 []", rules)
    }
}
