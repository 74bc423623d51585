import EdgeConfig
import EdgeController
import EdgeTelemetry
import XCTest

final class ScorerTests: XCTestCase {
    func testFixedNormalisationWeightsAndPriority() {
        let cfg = Fixtures.scoreConfig()
        let s = Scorer.score(ScoreInputs(Fixtures.window("a")), settings: cfg)
        // rtt 20/200, retrans .005/.05, drops 10/100, runqlat 2/20 are all 0.1; cpu 0.3.
        // 0.30·0.1 + 0.20·0.1 + 0.20·0.1 + 0.15·0.1 + 0.15·0.3 = 0.13
        XCTAssertEqual(s.total, 0.13, accuracy: 1e-12)
        XCTAssertFalse(s.neutral)
        XCTAssertEqual(s.terms.map(\.signal), ScoreSignal.allCases)
        XCTAssertEqual(s.terms[0].normalised!, 0.1, accuracy: 1e-12)
        XCTAssertEqual(s.terms[0].contribution, 0.03, accuracy: 1e-12)
        XCTAssertEqual(s.terms[4].contribution, 0.045, accuracy: 1e-12)
        XCTAssertEqual(s.terms.map(\.contribution).reduce(0, +), s.total, accuracy: 1e-12)
        XCTAssertEqual(Scorer.priority(forBadness: s.total), 9) // round(8.7)
    }

    func testWeightsAreNormalisedToSumOne() {
        var cfg = Fixtures.scoreConfig()
        cfg.weights = [.rttP99: 3, .retrans: 2, .dropWeighted: 2, .runqlatP95: 1.5, .cpu: 1.5]
        let s = Scorer.score(ScoreInputs(Fixtures.window("a")), settings: cfg)
        XCTAssertEqual(s.total, 0.13, accuracy: 1e-12)
        XCTAssertEqual(s.terms.map(\.weight).reduce(0, +), 1, accuracy: 1e-12)
    }

    func testFixedNormalisationClampsOutOfBounds() {
        let cfg = Fixtures.scoreConfig()
        let worst = Scorer.score(ScoreInputs(Fixtures.window("a", rtt: 900, retrans: 0.4, dropW: 5000, runqlat: 80, cpu: 1)),
                                 settings: cfg)
        XCTAssertEqual(worst.total, 1, accuracy: 1e-12)
        XCTAssertEqual(Scorer.priority(forBadness: worst.total), 0)
        let best = Scorer.score(ScoreInputs(Fixtures.window("a", rtt: 0, retrans: 0, dropW: 0, runqlat: 0, cpu: 0)),
                                settings: cfg)
        XCTAssertEqual(best.total, 0, accuracy: 1e-12)
        XCTAssertEqual(Scorer.priority(forBadness: best.total), 10)
    }

    func testAbsentSignalIsLeftOutAndWeightsRenormalised() {
        let cfg = Fixtures.scoreConfig()
        let s = Scorer.score(ScoreInputs(Fixtures.window("a", rtt: nil)), settings: cfg)
        // Remaining weights 0.2, 0.2, 0.15, 0.15 (sum 0.7): (0.02 + 0.02 + 0.015 + 0.045) / 0.7
        XCTAssertEqual(s.total, 0.1 / 0.7, accuracy: 1e-12)
        let rtt = s.terms[0]
        XCTAssertTrue(rtt.absent)
        XCTAssertNil(rtt.normalised)
        XCTAssertEqual(rtt.weight, 0)
        XCTAssertEqual(rtt.contribution, 0)
        XCTAssertEqual(rtt.configuredWeight, 0.30)
        XCTAssertEqual(s.terms[1].weight, 0.2 / 0.7, accuracy: 1e-12)
    }

    func testNothingWeightedPresentIsNeutral() {
        var cfg = Fixtures.scoreConfig()
        cfg.weights[.dropWeighted] = 0 // drop_weighted is always reported; with weight 0 it cannot carry the score
        let s = Scorer.score(ScoreInputs(Fixtures.window("a", rtt: nil, retrans: nil, runqlat: nil, cpu: nil)), settings: cfg)
        XCTAssertTrue(s.neutral)
        XCTAssertEqual(s.total, 0.5)
        XCTAssertEqual(Scorer.priority(forBadness: s.total), 5)
    }

    func testMinMaxNormalisationOverCandidates() {
        let cfg = Fixtures.scoreConfig(normalisation: .minmax)
        let inputs = [Fixtures.window("a", rtt: 10), Fixtures.window("b", rtt: 50), Fixtures.window("c", rtt: 110)]
            .map(ScoreInputs.init)
        let ranges = Scorer.ranges(over: inputs)
        XCTAssertEqual(ranges.ranges[.rttP99], SignalBounds(lo: 10, hi: 110))
        let scores = inputs.map { Scorer.score($0, settings: cfg, ranges: ranges) }
        // Only RTT differs; the other signals have a degenerate range and add nothing.
        XCTAssertEqual(scores.map { $0.terms[0].normalised! }, [0, 0.4, 1])
        XCTAssertEqual(scores[0].total, 0, accuracy: 1e-12)
        XCTAssertEqual(scores[1].total, 0.3 * 0.4, accuracy: 1e-12)
        XCTAssertEqual(scores[2].total, 0.3, accuracy: 1e-12)
        XCTAssertEqual(scores[2].terms[4].normalised, 0) // cpu equal everywhere
        XCTAssertEqual(scores[2].terms[0].bounds, SignalBounds(lo: 10, hi: 110))
    }

    func testMinMaxWidensARangeNarrowerThanTheFloor() {
        // RTT 2.0, 2.2, 2.4 ms: 0.4 ms apart, under the 1 ms floor → spread over [2.0, 3.0], not [2.0, 2.4]
        let cfg = Fixtures.scoreConfig(normalisation: .minmax)
        XCTAssertEqual(cfg.minmaxFloor[.rttP99], 1)
        let inputs = [Fixtures.window("a", rtt: 2.0), Fixtures.window("b", rtt: 2.2), Fixtures.window("c", rtt: 2.4)]
            .map(ScoreInputs.init)
        let ranges = Scorer.ranges(over: inputs)
        let scores = inputs.map { Scorer.score($0, settings: cfg, ranges: ranges) }
        for (score, expected) in zip(scores, [0, 0.2, 0.4]) { XCTAssertEqual(score.terms[0].normalised!, expected, accuracy: 1e-9) }
        XCTAssertEqual(scores[2].terms[0].bounds, SignalBounds(lo: 2.0, hi: 3.0))
        // the same spread with the floor off reaches 1, as before the floor existed
        var off = cfg
        off.minmaxFloor[.rttP99] = 0
        XCTAssertEqual(Scorer.score(inputs[2], settings: off, ranges: ranges).terms[0].normalised!, 1, accuracy: 1e-9)
        // a range wider than the floor is used as it is
        let wide = [Fixtures.window("a", rtt: 2), Fixtures.window("b", rtt: 25)].map(ScoreInputs.init)
        XCTAssertEqual(Scorer.score(wide[1], settings: cfg, ranges: Scorer.ranges(over: wide)).terms[0].bounds, SignalBounds(lo: 2, hi: 25))
    }

    func testMinMaxIgnoresAbsentValuesInRanges() {
        let inputs = [Fixtures.window("a", rtt: nil), Fixtures.window("b", rtt: 30), Fixtures.window("c", rtt: 60)]
            .map(ScoreInputs.init)
        XCTAssertEqual(Scorer.ranges(over: inputs).ranges[.rttP99], SignalBounds(lo: 30, hi: 60))
        XCTAssertNil(Scorer.ranges(over: [ScoreInputs(Fixtures.window("a", rtt: nil))]).ranges[.rttP99])
    }

    func testPriorityRounding() {
        XCTAssertEqual(Scorer.priority(forBadness: 0.25), 8) // 7.5 rounds away from zero
        XCTAssertEqual(Scorer.priority(forBadness: 0.05), 10) // 9.5
        XCTAssertEqual(Scorer.priority(forBadness: 0.74), 3) // 2.6
        XCTAssertEqual(Scorer.priority(forBadness: -1), 10)
        XCTAssertEqual(Scorer.priority(forBadness: 7), 0)
        XCTAssertEqual(Scorer.priority(forBadness: .nan), 0)
    }
}

final class SmoothingTests: XCTestCase {
    func testEWMA() {
        let sm = ScoreSmoother(alpha: 0.25, hysteresis: 0)
        var st = sm.next(previous: nil, raw: 0.2)
        XCTAssertEqual(st.smoothed, 0.2)
        XCTAssertEqual(st.samples, 1)
        st = sm.next(previous: st, raw: 0.6)
        XCTAssertEqual(st.smoothed, 0.25 * 0.6 + 0.75 * 0.2, accuracy: 1e-12) // 0.3
        st = sm.next(previous: st, raw: 0.6)
        XCTAssertEqual(st.smoothed, 0.25 * 0.6 + 0.75 * 0.3, accuracy: 1e-12) // 0.375
        XCTAssertEqual(st.priority, Scorer.priority(forBadness: 0.375))
        XCTAssertEqual(st.samples, 3)
    }

    /// Worse scores are folded in with `alpha` (attack), better ones with `release`.
    func testAsymmetricAttackAndRelease() {
        let sm = ScoreSmoother(alpha: 0.5, release: 0.1, hysteresis: 0)
        var st = sm.next(previous: nil, raw: 0.2)
        st = sm.next(previous: st, raw: 0.8) // worse: 0.5 · 0.8 + 0.5 · 0.2
        XCTAssertEqual(st.smoothed, 0.5, accuracy: 1e-12)
        st = sm.next(previous: st, raw: 0.0) // better: 0.1 · 0 + 0.9 · 0.5
        XCTAssertEqual(st.smoothed, 0.45, accuracy: 1e-12)
        st = sm.next(previous: st, raw: 0.45) // equal: either factor gives the same value
        XCTAssertEqual(st.smoothed, 0.45, accuracy: 1e-12)
        XCTAssertEqual(ScoreSmoother(alpha: 0.3, hysteresis: 0).release, 0.3, "release defaults to alpha (symmetric)")
        let config = ScoreSmoother(ControllerConfig.defaults.score)
        XCTAssertEqual(config.attack, 0.3)
        XCTAssertEqual(config.release, 0.05)
    }

    func testNoiseBelowHysteresisKeepsPriority() {
        let noise = [0.149, 0.16, 0.14, 0.165, 0.138, 0.162, 0.15, 0.17, 0.145]
        let held = ScoreSmoother(alpha: 0.5, hysteresis: 0.05)
        var st: SmoothedScore?
        var priorities: [Int] = []
        for raw in noise {
            st = held.next(previous: st, raw: raw)
            priorities.append(st!.priority)
        }
        XCTAssertEqual(Set(priorities), [9], "noise within the hysteresis band must not move the priority")
        XCTAssertEqual(st!.anchor, 0.149)

        // The same noise without hysteresis does flip it (8.5 is the rounding edge): the test data is meaningful.
        let free = ScoreSmoother(alpha: 0.5, hysteresis: 0)
        var fs: SmoothedScore?
        var freePriorities = Set<Int>()
        for raw in noise {
            fs = free.next(previous: fs, raw: raw)
            freePriorities.insert(fs!.priority)
        }
        XCTAssertEqual(freePriorities, [8, 9])
    }

    func testRealChangeMovesPriority() {
        let sm = ScoreSmoother(alpha: 0.5, hysteresis: 0.05)
        var st = sm.next(previous: nil, raw: 0.149)
        XCTAssertEqual(st.priority, 9)
        st = sm.next(previous: st, raw: 0.6) // smoothed 0.3745: moved 0.2255 > 0.05
        XCTAssertEqual(st.smoothed, 0.3745, accuracy: 1e-12)
        XCTAssertEqual(st.anchor, st.smoothed)
        XCTAssertEqual(st.priority, 6)
        st = sm.next(previous: st, raw: 0.6) // 0.48725
        XCTAssertEqual(st.priority, 5)
        for _ in 0..<10 { st = sm.next(previous: st, raw: 0.6) }
        XCTAssertEqual(st.priority, 4) // converges to round(10 · 0.4)
    }
}
