// SIGHUP on the real edge-controller binary (issue 17 item 6), in a network namespace of the
// test's own (so 127.0.0.1:8477 is free): a changed weight reaches score.get --explain at once
// (the node is rescored from its last report), a changed [filter] limit reaches the extender,
// and a file that no longer validates is refused with its reason while the running settings
// stay. Plus the in-process pieces: NodeRegistry.apply and Extender.apply.
import EdgeAPI
import EdgeConfig
import EdgeController
import EdgeRPC
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import XCTest

final class ControllerReloadTests: XCTestCase {
    var dir: URL!
    var ns: ScratchNetns!
    var controller: DaemonProcess!
    var socket: String { dir.appendingPathComponent("controller.sock").path }
    var configPath: String { dir.appendingPathComponent("controller.toml").path }
    var tokenPath: String { dir.appendingPathComponent("token").path }

    override func tearDown() async throws {
        controller?.stop()
        controller = nil
        ns = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func writeConfig(weights: String, filter: String = "", extra: String = "") throws {
        let text = """
        [server]
        listen = "127.0.0.1:8477"
        token_file = "\(tokenPath)"
        [rpc]
        socket = "\(socket)"
        group = ""
        [score]
        smoothing = 1
        recovery_smoothing = 1
        hysteresis = 0
        [score.weights]
        \(weights)
        [filter]
        \(filter)
        \(extra)
        """
        // Written aside and renamed: the daemon never reads half a file.
        let tmp = configPath + ".new"
        try text.write(toFile: tmp, atomically: false, encoding: .utf8)
        XCTAssertEqual(rename(tmp, configPath), 0)
    }

    func startController() throws {
        try requireRoot()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-reload-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "reload-test-token\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        try writeConfig(weights: "rtt_p99 = 0.3\nretrans = 0.2\ndrop_weighted = 0.2\nrunqlat_p95 = 0.15\ncpu = 0.15")
        ns = try ScratchNetns()
        controller = try DaemonProcess(try Products.path("edge-controller"), ["--config", configPath], netns: ns.name)
        XCTAssertTrue(controller.waitUntil { self.controllerAnswers() }, "controller did not start:\n\(controller.log)")
    }

    func controllerAnswers() -> Bool {
        (try? RPCClient(path: socket, timeout: .seconds(2)).call(ControllerMethod.status) as ControllerStatusResult) != nil
    }

    /// POSTs one report from inside the namespace, with the token.
    func push(_ w: TelemetryWindow) throws {
        let body = String(decoding: Fixtures.json(w), as: UTF8.self)
        let script = """
        import sys, urllib.request
        r = urllib.request.Request("http://127.0.0.1:8477/v1/reports", data=sys.argv[1].encode(),
                                   headers={"Authorization": "Bearer reload-test-token", "Content-Type": "application/json"})
        print(urllib.request.urlopen(r, timeout=5).status)
        """
        let out = try ns.run(["python3", "-c", script, body])
        XCTAssertEqual(out.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "200", out.stderr)
    }

    func explain(_ node: String) throws -> ScoreExplanation {
        let r: ScoreGetResult = try RPCClient(path: socket, timeout: .seconds(5))
            .call(ControllerMethod.scoreGet, params: ScoreGetParams(node: node, explain: true))
        return try XCTUnwrap(r.scores.first)
    }

    func dryRun(_ node: String) throws -> ExtenderDryRunResult {
        try RPCClient(path: socket, timeout: .seconds(5))
            .call(ControllerMethod.extenderDryRun, params: ExtenderDryRunParams(pod: nil, nodeNames: [node]))
    }

    func hangUp() {
        XCTAssertEqual(kill(controller.process.processIdentifier, SIGHUP), 0)
    }

    /// Polls until `condition` holds (5 s at most).
    func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    func testSIGHUPAppliesNewWeightsAndFilterAndRefusesABadFile() throws {
        try startController()
        // rtt 100 ms of 200 (0.5), everything else at its best: the score is rtt's share alone.
        try push(Fixtures.window("edge-a", rtt: 100, retrans: 0, dropW: 0, runqlat: 0, cpu: 0))
        let before = try explain("edge-a")
        XCTAssertEqual(before.raw, 0.5 * 0.3, accuracy: 1e-9, "\(before)")
        XCTAssertEqual(before.signals?.first { $0.signal == "rtt_p99" }?.configuredWeight, 0.3)
        XCTAssertEqual(try dryRun("edge-a").passed, ["edge-a"])

        // Only rtt counts now, and a node over 50 ms is filtered out.
        try writeConfig(weights: "rtt_p99 = 1\nretrans = 0\ndrop_weighted = 0\nrunqlat_p95 = 0\ncpu = 0",
                        filter: "max_rtt_p99_ms = 50")
        hangUp()
        XCTAssertTrue(try eventually { try explain("edge-a").raw > 0.49 },
                      "weights not applied after SIGHUP: \((try? explain("edge-a")).map { "\($0)" } ?? "-")\n\(controller.log)")
        let after = try explain("edge-a")
        XCTAssertEqual(after.raw, 0.5, accuracy: 1e-9)
        XCTAssertEqual(after.signals?.first { $0.signal == "rtt_p99" }?.configuredWeight, 1)
        XCTAssertEqual(after.priority, 5, "priority follows the new raw score at once: \(after)")
        let filtered = try dryRun("edge-a")
        XCTAssertEqual(filtered.passed, [])
        // A fixed text per cause (issue 16): the live value is in the log and `score --explain`.
        XCTAssertEqual(filtered.failed.first?.reason, "edgenode: rtt_p99 above filter.max_rtt_p99_ms", "\(filtered)")
        XCTAssertTrue(controller.log.contains("reloaded \(configPath)"), controller.log)

        // A negative weight: refused with file, key and rule; the running settings stay.
        try writeConfig(weights: "rtt_p99 = -1")
        hangUp()
        XCTAssertTrue(eventually { self.controller.log.contains("reload refused") }, controller.log)
        let refusal = controller.log.split(separator: "\n").first { $0.contains("reload refused") }.map(String.init) ?? ""
        XCTAssertTrue(refusal.contains(configPath) && refusal.contains("score.weights.rtt_p99"), refusal)
        XCTAssertTrue(controller.process.isRunning, "a bad file must not stop the controller")
        XCTAssertEqual(try explain("edge-a").raw, 0.5, accuracy: 1e-9, "the reloaded weights stay in force")
        XCTAssertEqual(try dryRun("edge-a").passed, [])

        // A restart-only change is applied for what can be and named for the rest.
        try writeConfig(weights: "rtt_p99 = 1", extra: "[registry]\nstale_after = \"30s\"")
        hangUp()
        XCTAssertTrue(eventually { self.controller.log.contains("need a restart: [registry]") }, controller.log)
        XCTAssertTrue(controllerAnswers())
    }

    // MARK: in process

    func testRegistryApplyRescoresEveryNodeAndRestartsItsSmoothing() throws {
        var score = Fixtures.scoreConfig()
        score.smoothing = 0.3
        score.recoverySmoothing = 0.05
        let registry = NodeRegistry(score: score, registry: Fixtures.registryConfig())
        try registry.ingest(Fixtures.window("a", rtt: 100, retrans: 0, dropW: 0, runqlat: 0, cpu: 0))
        try registry.ingest(Fixtures.window("a", rtt: 0, retrans: 0, dropW: 0, runqlat: 0, cpu: 0))
        XCTAssertGreaterThan(registry.snapshot(node: "a")!.smoothing.smoothed, 0, "the EWMA still remembers rtt 100")

        var onlyCPU = score
        onlyCPU.weights = [.rttP99: 0, .retrans: 0, .dropWeighted: 0, .runqlatP95: 0, .cpu: 1]
        XCTAssertEqual(registry.apply(score: onlyCPU), 1)
        let s = registry.snapshot(node: "a")!
        XCTAssertEqual(s.raw.total, 0, "rescored from the last window (cpu 0) with the new weights")
        XCTAssertEqual(s.smoothing.smoothed, 0, "smoothing starts over from the new raw score")
        XCTAssertEqual(s.smoothing.samples, 1)
        XCTAssertEqual(registry.scoreSettings, onlyCPU)
        XCTAssertEqual(registry.apply(score: onlyCPU), 0, "the same settings again change nothing")
    }

    func testExtenderApplyIsSeenByEveryCopy() throws {
        let registry = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig())
        try registry.ingest(Fixtures.window("a", rtt: 100))
        let noLimits = ControllerConfig.Filter()
        let extender = Extender(registry: registry, policy: ExtenderPolicy(filter: noLimits, stalePolicy: .filter,
                                                                           staleAfter: registry.staleAfter))
        let copy = extender // the RPC methods hold a copy of the HTTP routes' extender
        XCTAssertEqual(try copy.dryRun(ExtenderDryRunParams(pod: nil, nodeNames: ["a"])).passed, ["a"])
        var limit = noLimits
        limit[.rttP99] = 50
        extender.apply(filter: limit)
        XCTAssertEqual(try copy.dryRun(ExtenderDryRunParams(pod: nil, nodeNames: ["a"])).passed, [])
    }
}
