// Flap damping (RFC 2439 style) with a scripted clock: the penalty arithmetic on its own, then
// through the real registry and extender, where a node that keeps dropping out must not look
// healthy in its up phases.
import EdgeConfig
@testable import EdgeController
import Foundation
import XCTest

final class FlapDampingTests: XCTestCase {
    let d = ControllerConfig.defaultDamping // penalty 1000, half-life 60 s, suppress 2000, reuse 750, max 600 s
    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> MonotonicInstant { t0 + .milliseconds(Int64(seconds * 1000)) }

    // MARK: - arithmetic

    func testPenaltyHalvesEveryHalfLife() {
        var s = DampingState(at: t0)
        s.flap(at: t0, d)
        XCTAssertEqual(s.penalty(at: t0, d), 1000, accuracy: 1e-9)
        XCTAssertEqual(s.penalty(at: at(60), d), 500, accuracy: 1e-9)
        XCTAssertEqual(s.penalty(at: at(120), d), 250, accuracy: 1e-9)
        XCTAssertEqual(s.penalty(at: at(30), d), 1000 / 2.0.squareRoot(), accuracy: 1e-9)
    }

    func testOneOutageIsToleratedTwoAreSuppressedUntilBelowReuse() throws {
        var s = DampingState(at: t0)
        // went stale at 15 s, back at 20 s: 1000·2^(−5/60) + 1000 ≈ 1944 < 2000
        s.reported(at: at(20), previous: t0, staleAfter: .seconds(15), d)
        XCTAssertEqual(s.flaps, 2)
        XCTAssertEqual(s.penalty(at: at(20), d), 1000 * pow(2, -5.0 / 60) + 1000, accuracy: 1e-6)
        XCTAssertFalse(s.isSuppressed(at: at(20), d))
        // a second outage: stale at 35 s crosses suppress
        s.reported(at: at(40), previous: at(20), staleAfter: .seconds(15), d)
        XCTAssertTrue(s.isSuppressed(at: at(40), d))
        let p40 = s.penalty(at: at(40), d)
        let reuse = try XCTUnwrap(s.reuseAt(d))
        let expected = 60 * log2(p40 / 750)
        XCTAssertEqual((reuse - at(40)).seconds, expected, accuracy: 1e-3)
        // hysteresis: below suppress but above reuse it stays suppressed; below reuse it is reused
        let belowSuppress = 40 + 60 * log2(p40 / 1999)
        XCTAssertTrue(s.isSuppressed(at: at(belowSuppress), d))
        XCTAssertTrue(s.isSuppressed(at: at(40 + expected - 0.01), d))
        XCTAssertFalse(s.isSuppressed(at: at(40 + expected + 0.01), d))
    }

    func testCeilingBoundsSuppressionTimeAfterTheLastFlap() throws {
        var s = DampingState(at: t0)
        // Flapping once a second only reaches the steady state 1000 / (1 − 2^(−1/60)) ≈ 87 000, below the
        // ceiling (750 · 2^10 = 768 000); a burst of 1 000 flaps within a second passes it.
        for i in 0..<1000 { s.flap(at: at(Double(i) / 1000), d) }
        let last = Double(999) / 1000
        XCTAssertEqual(s.penalty(at: at(last), d), d.ceiling, accuracy: 1e-6)
        let reuse = try XCTUnwrap(s.reuseAt(d))
        XCTAssertEqual((reuse - at(last)).seconds, d.maxSuppressSeconds, accuracy: 1e-3)
        XCTAssertTrue(s.isSuppressed(at: at(last + d.maxSuppressSeconds - 0.01), d))
        XCTAssertFalse(s.isSuppressed(at: at(last + d.maxSuppressSeconds + 0.01), d))
    }

    func testZeroPenaltySwitchesDampingOff() {
        var off = d
        off.penalty = 0
        var s = DampingState(at: t0)
        for i in 0..<100 { s.flap(at: at(Double(i)), off) }
        XCTAssertEqual(s.penalty(at: at(100), off), 0)
        XCTAssertFalse(s.isSuppressed(at: at(100), off))
    }

    func testAStaleNodeShowsItsPendingTransition() {
        let s = DampingState(at: t0)
        let v = s.view(at: at(30), lastSeen: t0, staleAfter: .seconds(15), d)
        XCTAssertEqual(v.flaps, 1)
        XCTAssertEqual(v.penalty(at: at(30), d), 1000 * pow(2, -15.0 / 60), accuracy: 1e-6)
        XCTAssertEqual(s.view(at: at(10), lastSeen: t0, staleAfter: .seconds(15), d), s, "fresh: nothing pending")
    }

    // MARK: - through the registry and the extender

    /// "flappy" reports every second for 10 s, then is silent for 10 s (stale_after 5 s), again and
    /// again; "steady" reports throughout. After its second outage, flappy is filtered in every up
    /// phase and ranked 0, though each up phase's telemetry is excellent.
    func testANodeFlappingEvery10sDoesNotLookHealthyInItsUpPhases() throws {
        let registry = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 5), damping: d)
        let extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: ControllerConfig.defaults.filter, stalePolicy: .filter, staleAfter: registry.staleAfter, damping: d))
        let body = Fixtures.argsWithNames(["flappy", "steady"])
        var upPhaseVerdicts: [(second: Int, filtered: Bool, priority: Int)] = []
        for second in 0..<200 {
            let now = at(Double(second))
            try registry.ingest(Fixtures.window("steady", rtt: 60, retrans: 0.01, dropW: 30, runqlat: 5, cpu: 0.5), now: now)
            let up = (second / 10) % 2 == 0
            guard up else { continue }
            try registry.ingest(Fixtures.window("flappy", rtt: 1, retrans: 0, dropW: 0, runqlat: 0.1, cpu: 0.05), now: now)
            let filter = try JSONSerialization.jsonObject(with: extender.handleFilter(body: body, now: now).body) as? [String: Any]
            let passing = filter?["NodeNames"] as? [String] ?? []
            let prio = try JSONSerialization.jsonObject(with: extender.handlePrioritize(body: body, now: now).body) as? [[String: Any]]
            let flappyPriority = prio?.first { $0["Host"] as? String == "flappy" }?["Score"] as? Int ?? -1
            upPhaseVerdicts.append((second, !passing.contains("flappy"), flappyPriority))
        }
        // up phases 0–9 (never flapped), 20–29 (one outage: tolerated); from 40 on it is suppressed
        for v in upPhaseVerdicts where v.second < 30 {
            XCTAssertFalse(v.filtered, "second \(v.second): one outage must not suppress")
        }
        let later = upPhaseVerdicts.filter { $0.second >= 40 }
        XCTAssertFalse(later.isEmpty)
        for v in later {
            XCTAssertTrue(v.filtered, "second \(v.second): flappy passed /filter in an up phase")
            XCTAssertEqual(v.priority, 0, "second \(v.second): flappy ranked \(v.priority)")
        }
        // the explanation names the penalty and the reuse time
        let snap = try XCTUnwrap(registry.snapshot(node: "flappy", now: at(195)))
        XCTAssertTrue(snap.damping.suppressed)
        XCTAssertGreaterThan(snap.damping.penalty, d.suppress)
        let e = ScoreExplainer.explain(snap, settings: registry.scoreSettings, registry: registry.settings, damping: d, explain: true)
        XCTAssertEqual(e.suppressed, true)
        XCTAssertNotNil(e.reuseInSeconds)
        XCTAssertTrue(e.notes.contains { $0.hasPrefix("suppressed by flap damping: penalty") && $0.contains("reused in") }, "\(e.notes)")
        XCTAssertEqual(e.priority, 0)
    }

    /// Suppression never empties the candidate list: alone (or with only other suppressed or
    /// failing nodes) the node passes, with priority 0.
    func testASuppressedNodeIsKeptWhenNothingElseRemains() throws {
        let registry = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig(staleAfter: 5), damping: d)
        let extender = Extender(registry: registry, policy: ExtenderPolicy(
            filter: ControllerConfig.defaults.filter, stalePolicy: .filter, staleAfter: registry.staleAfter, damping: d))
        for second in [0.0, 10, 20, 30] { // three outages of 10 s (stale after 5 s)
            try registry.ingest(Fixtures.window("flappy"), now: at(second))
        }
        XCTAssertTrue(try XCTUnwrap(registry.snapshot(node: "flappy", now: at(30))).damping.suppressed)
        let alone = try JSONSerialization.jsonObject(with: extender.handleFilter(
            body: Fixtures.argsWithNames(["flappy"]), now: at(30)).body) as? [String: Any]
        XCTAssertEqual(alone?["NodeNames"] as? [String], ["flappy"])
        XCTAssertEqual((alone?["FailedAndUnresolvableNodes"] as? [String: String])?.isEmpty ?? true, true)
        try registry.ingest(Fixtures.window("other"), now: at(30))
        let two = try JSONSerialization.jsonObject(with: extender.handleFilter(
            body: Fixtures.argsWithNames(["flappy", "other"]), now: at(30)).body) as? [String: Any]
        XCTAssertEqual(two?["NodeNames"] as? [String], ["other"])
        XCTAssertEqual((two?["FailedAndUnresolvableNodes"] as? [String: String])?["flappy"],
                       "edgenode: node suppressed after repeated telemetry outages (flap damping)")
    }

    func testConfigKeysDefaultsAndValidation() throws {
        let c = try ControllerConfig.parse(text: "", file: "t.toml")
        XCTAssertEqual(c.damping, ControllerConfig.defaultDamping)
        let set = try ControllerConfig.parse(text: "[damping]\npenalty = 500\nhalf_life = \"2m\"\nsuppress = 1500\nreuse = 400\nmax_suppress = \"30m\"\n", file: "t.toml")
        XCTAssertEqual(set.damping, ControllerConfig.Damping(penalty: 500, halfLifeSeconds: 120, suppress: 1500, reuse: 400, maxSuppressSeconds: 1800))
        XCTAssertEqual(try ControllerConfig.parse(text: set.tomlText, file: "round.toml"), set)
        for (text, key) in [("[damping]\nreuse = 3000\n", "damping.reuse"), ("[damping]\npenalty = -1\n", "damping.penalty"),
                            ("[damping]\nmax_suppress = \"1s\"\nhalf_life = \"1h\"\n", "damping.max_suppress"),
                            ("[damping]\nbogus = 1\n", "bogus")] {
            XCTAssertThrowsError(try ControllerConfig.parse(text: text, file: "t.toml"), text) { error in
                XCTAssertTrue("\(error)".contains(key), "\(error) should name \(key)")
            }
        }
    }
}
