// Fault injection, a flapping node: its reports alternate between healthy and degraded (a
// link that drops in and out, a noisy neighbour on and off). Fed through the controller's real
// registry, scorer, smoother and extender, in-process with simulated time, the published
// priority (what kube-scheduler sees from /prioritize) must not follow every flap: hysteresis
// holds it while the smoothed score stays within the threshold, and the steady nodes around it
// keep their order.
import EdgeConfig
import EdgeController
import EdgeTelemetry
import Foundation
import XCTest

final class FaultFlappingTests: XCTestCase {
    /// The shipped defaults (smoothing 0.3, hysteresis 0.05) with fixed bounds.
    func settings(hysteresis: Double? = nil) -> ControllerConfig.Score {
        var s = Fixtures.scoreConfig(normalisation: .fixed, smoothing: ControllerConfig.defaults.score.smoothing,
                                     hysteresis: ControllerConfig.defaults.score.hysteresis)
        if let hysteresis { s.hysteresis = hysteresis }
        return s
    }

    struct Run {
        /// The flapping node's published priority after each report.
        var priorities: [Int]
        /// The full /prioritize order after each round.
        var orders: [[String]]
        var changes: Int { zip(priorities, priorities.dropFirst()).filter { $0 != $1 }.count }
    }

    /// `rounds` report rounds, 1 s apart: "flappy" alternates between `healthy` and `degraded`,
    /// "steady-good" and "steady-bad" do not. Each round ends with a /prioritize call.
    func run(score: ControllerConfig.Score, rounds: Int, healthy: TelemetryWindow, degraded: TelemetryWindow) throws -> Run {
        let registry = NodeRegistry(score: score, registry: Fixtures.registryConfig(staleAfter: 15))
        let extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: ControllerConfig.defaults.filter, stalePolicy: .filter, staleAfter: registry.staleAfter))
        let start = ContinuousClock.now
        var result = Run(priorities: [], orders: [])
        let body = Fixtures.argsWithNames(["flappy", "steady-good", "steady-bad"])
        for round in 0..<rounds {
            let now = start + .seconds(round)
            var w = round % 2 == 0 ? healthy : degraded
            w.node = "flappy"
            try registry.ingest(w, now: now)
            try registry.ingest(Fixtures.window("steady-good", rtt: 10, retrans: 0.001, dropW: 1, runqlat: 1, cpu: 0.2), now: now)
            try registry.ingest(Fixtures.window("steady-bad", rtt: 190, retrans: 0.045, dropW: 95, runqlat: 19, cpu: 0.95), now: now)
            let reply = extender.handlePrioritize(body: body, now: now)
            XCTAssertEqual(reply.status, 200, String(decoding: reply.body, as: UTF8.self))
            let list = try JSONSerialization.jsonObject(with: reply.body) as? [[String: Any]] ?? []
            let scores = Dictionary(uniqueKeysWithValues: list.compactMap { e -> (String, Int)? in
                guard let h = e["Host"] as? String, let s = e["Score"] as? Int else { return nil }
                return (h, s)
            })
            result.priorities.append(try XCTUnwrap(scores["flappy"], "flappy in \(list)"))
            result.orders.append(scores.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key))
        }
        return result
    }

    /// Mild flapping (RTT 20 ↔ 60 ms, a few more drops): after the smoother settles, the
    /// published priority does not move at all, where without hysteresis it follows the flaps.
    func testMildFlappingKeepsThePublishedPriorityStill() throws {
        let healthy = Fixtures.window("x", rtt: 20, retrans: 0.004, dropW: 5, runqlat: 2, cpu: 0.30)
        let degraded = Fixtures.window("x", rtt: 60, retrans: 0.012, dropW: 25, runqlat: 5, cpu: 0.45)
        // The raw scores are far enough apart that rounding alone would flip the priority.
        let rawHealthy = Scorer.score(ScoreInputs(healthy), settings: settings()).total
        let rawDegraded = Scorer.score(ScoreInputs(degraded), settings: settings()).total
        XCTAssertNotEqual(Scorer.priority(forBadness: rawHealthy), Scorer.priority(forBadness: rawDegraded),
                          "test premise: the two states map to different priorities (\(rawHealthy), \(rawDegraded))")

        let warmUp = 20, rounds = 200
        let held = try run(score: settings(), rounds: rounds, healthy: healthy, degraded: degraded)
        let settled = Array(held.priorities.dropFirst(warmUp))
        XCTAssertEqual(Set(settled).count, 1, "published priority moved while flapping: \(settled)")
        XCTAssertEqual(Set(held.orders.dropFirst(warmUp)).count, 1, "the node order reshuffled: \(Set(held.orders))")

        // The same flaps published raw (no smoothing, no hysteresis) change it every report.
        var raw = settings(hysteresis: 0)
        raw.smoothing = 1
        let unfiltered = try run(score: raw, rounds: rounds, healthy: healthy, degraded: degraded)
        XCTAssertEqual(unfiltered.changes, rounds - 1, "premise: unfiltered priorities follow every flap")
        print("flapping (mild): \(held.changes) priority changes in \(rounds) reports with the default smoothing and "
              + "hysteresis (0 after \(warmUp) warm-up reports), \(unfiltered.changes) without")
    }

    /// A healthy and a badly degraded report (raw badness 0.08 and 0.84), and the shipped score
    /// settings with their slow recovery.
    func hardFlapStates() -> (healthy: TelemetryWindow, degraded: TelemetryWindow, settings: ControllerConfig.Score) {
        var s = settings()
        s.recoverySmoothing = ControllerConfig.defaults.score.recoverySmoothing
        return (Fixtures.window("x", rtt: 15, retrans: 0.002, dropW: 2, runqlat: 1, cpu: 0.25),
                Fixtures.window("x", rtt: 180, retrans: 0.04, dropW: 80, runqlat: 15, cpu: 0.9), s)
    }

    /// Hard flapping (healthy ↔ badly degraded, raw badness 0.08 ↔ 0.84). A symmetric EWMA keeps a
    /// smoothed swing of alpha·Δ/(2 − alpha) ≈ 0.13, wider than the 0.05 hysteresis, so its published
    /// priority would step with the flaps. With the default slow recovery (`recovery_smoothing`) the
    /// swing shrinks below the hysteresis: after warm-up the priority must not move at all, and it must
    /// sit on the degraded side (an unreliable node is ranked like a degraded one), with the steady
    /// nodes' order unchanged.
    func testHardFlappingHoldsTheDegradedPriority() throws {
        let (healthy, degraded, s) = hardFlapStates()
        let rawHealthy = Scorer.score(ScoreInputs(healthy), settings: s).total
        let rawDegraded = Scorer.score(ScoreInputs(degraded), settings: s).total
        let hi = Scorer.priority(forBadness: rawHealthy), lo = Scorer.priority(forBadness: rawDegraded)
        let rounds = 200, warmUp = 30 // the two-report map contracts by 0.665: settled within ~25 reports
        let held = try run(score: s, rounds: rounds, healthy: healthy, degraded: degraded)
        var symmetric = s
        symmetric.recoverySmoothing = s.smoothing
        let sym = try run(score: symmetric, rounds: rounds, healthy: healthy, degraded: degraded)
        var raw = settings(hysteresis: 0)
        raw.smoothing = 1
        raw.recoverySmoothing = 1
        let unfiltered = try run(score: raw, rounds: rounds, healthy: healthy, degraded: degraded)

        let settled = Array(held.priorities.dropFirst(warmUp))
        XCTAssertEqual(Set(settled).count, 1, "published priority moved while flapping hard: \(settled)")
        XCTAssertLessThanOrEqual(settled[0], lo + 1, "a hard-flapping node must rank near its degraded priority \(lo)")
        XCTAssertLessThan(settled[0], hi)
        let symSettled = Array(sym.priorities.dropFirst(warmUp))
        XCTAssertGreaterThan(Set(symSettled).count, 1, "premise: a symmetric EWMA steps with hard flaps: \(symSettled)")
        for order in held.orders.dropFirst(warmUp) {
            XCTAssertEqual(order.first, "steady-good", "\(order)")
            XCTAssertEqual(order.last, "steady-bad", "\(order)")
        }
        print("flapping (hard): published \(settled[0]) with 0 changes after \(warmUp) reports (\(held.changes) in all "
              + "\(rounds)); symmetric EWMA \(symSettled.min()!)...\(symSettled.max()!) with \(sym.changes) changes; "
              + "unfiltered \(lo)...\(hi) with \(unfiltered.changes) changes")
    }

    /// The cost of the slow release, measured: a healthy node that degrades for good is published as
    /// degraded within a few reports; one that recovers for good regains a healthy priority within
    /// about a minute of 1 s reports (the trade-off the man page states).
    func testDegradationIsFastAndRecoveryBounded() throws {
        let (healthy, degraded, s) = hardFlapStates()
        let hi = Scorer.priority(forBadness: Scorer.score(ScoreInputs(healthy), settings: s).total)
        let lo = Scorer.priority(forBadness: Scorer.score(ScoreInputs(degraded), settings: s).total)
        let registry = NodeRegistry(score: s, registry: Fixtures.registryConfig(staleAfter: 15))
        let start = ContinuousClock.now
        var round = 0
        func feed(_ w: TelemetryWindow) throws -> Int {
            var w = w
            w.node = "n"
            defer { round += 1 }
            return try registry.ingest(w, now: start + .seconds(round)).smoothing.priority
        }
        for _ in 0..<30 { _ = try feed(healthy) }
        var toDegraded = 0
        while try feed(degraded) > lo + 1 { toDegraded += 1; if toDegraded > 100 { break } }
        for _ in 0..<60 { _ = try feed(degraded) }
        var toHealthy = 0
        while try feed(healthy) < hi - 1 { toHealthy += 1; if toHealthy > 200 { break } }
        XCTAssertLessThanOrEqual(toDegraded + 1, 5, "degradation must reach the scheduler within 5 reports")
        XCTAssertLessThanOrEqual(toHealthy + 1, 60, "recovery must be published within 60 reports")
        print("score dynamics (defaults): degraded priority published after \(toDegraded + 1) reports, "
              + "healthy again after \(toHealthy + 1) reports")
    }
}
