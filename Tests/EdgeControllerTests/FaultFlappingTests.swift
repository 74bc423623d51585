// Fault injection, a flapping node: its reports alternate between healthy and degraded (a
// link that drops in and out, a noisy neighbour on and off). Fed through the controller's real
// registry, scorer, smoother and extender, in-process with simulated time, the published
// priority (what kube-scheduler sees from /prioritize) must not follow every flap: hysteresis
// holds it while the smoothed score stays within the threshold, and the steady nodes around it
// keep their order.
import EdgeController
import EdgeCore
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

    /// Hard flapping (healthy ↔ badly degraded, raw badness 0.08 ↔ 0.84): the smoothed score's
    /// own swing (alpha·Δ/(2 − alpha) ≈ 0.13) is larger than the 0.05 hysteresis, so the published
    /// priority may still step, but only within the one or two cells that swing covers: never back
    /// to the healthy priority or down to the degraded one, never past the steady nodes, and never
    /// more often than the unfiltered priority.
    func testHardFlappingStaysWithinTheSmoothedBand() throws {
        let healthy = Fixtures.window("x", rtt: 15, retrans: 0.002, dropW: 2, runqlat: 1, cpu: 0.25)
        let degraded = Fixtures.window("x", rtt: 180, retrans: 0.04, dropW: 80, runqlat: 15, cpu: 0.9)
        let s = settings()
        let rawHealthy = Scorer.score(ScoreInputs(healthy), settings: s).total
        let rawDegraded = Scorer.score(ScoreInputs(degraded), settings: s).total
        let hi = Scorer.priority(forBadness: rawHealthy), lo = Scorer.priority(forBadness: rawDegraded)
        let rounds = 200, warmUp = 20
        let held = try run(score: s, rounds: rounds, healthy: healthy, degraded: degraded)
        var raw = settings(hysteresis: 0)
        raw.smoothing = 1
        let unfiltered = try run(score: raw, rounds: rounds, healthy: healthy, degraded: degraded)

        let settled = Array(held.priorities.dropFirst(warmUp))
        let band = s.smoothing * abs(rawDegraded - rawHealthy) / (2 - s.smoothing)
        let cells = Int((band * Double(Scorer.maxPriority)).rounded(.up)) + 1
        XCTAssertLessThanOrEqual(settled.max()! - settled.min()!, cells - 1,
                                 "published priority wider than the smoothed band (\(band)): \(settled)")
        XCTAssertTrue(settled.allSatisfy { $0 > lo && $0 < hi }, "settled priorities reach a state's own (\(lo)...\(hi)): \(settled)")
        XCTAssertLessThanOrEqual(held.changes, unfiltered.changes)
        for order in held.orders.dropFirst(warmUp) {
            XCTAssertEqual(order.first, "steady-good", "\(order)")
            XCTAssertEqual(order.last, "steady-bad", "\(order)")
        }
        print("flapping (hard): published \(settled.min()!)...\(settled.max()!) with \(held.changes) changes in \(rounds) "
              + "reports; unfiltered \(lo)...\(hi) with \(unfiltered.changes) changes")
    }
}
