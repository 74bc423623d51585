// Turns a node's stored score state into the `ScoreExplanation` that `edgectl score --explain` shows.
import EdgeAPI
import EdgeConfig

public enum ScoreExplainer {
    /// Explains `snapshot`'s score. `explain` adds the per-signal breakdown.
    public static func explain(_ s: NodeSnapshot, settings: ControllerConfig.Score, registry: ControllerConfig.Registry,
                               damping: ControllerConfig.Damping = ControllerConfig.defaultDamping,
                               explain: Bool) -> ScoreExplanation {
        var notes: [String] = []
        for t in s.raw.terms where t.absent && t.configuredWeight > 0 {
            notes.append("\(t.signal.rawValue) absent (no samples in the window): left out, other weights renormalised")
        }
        if let o = s.raw.outlier {
            notes.append("RTT outlier: rtt_p99 \(fmt(o.value)) ms is \(fmt((o.ratio * 10).rounded() / 10))× the fresh nodes' median "
                + "\(fmt(o.median)) ms (score.outlier_ratio \(fmt(settings.outlierRatio)), outlier_min_gap "
                + "\(fmt(settings.outlierMinGapMs)) ms): raw badness 1, ranked lowest while it lasts")
        }
        if s.raw.neutral {
            notes.append("no weighted signal present: neutral badness \(fmt(Scorer.neutralBadness))")
        }
        if settings.normalisation == .minmax {
            notes.append("min-max normalisation over the fresh nodes at the time of the node's last report")
            // signals whose range was the floor and where that changed this node's value (a node at
            // the range's low end, or among equal candidates, is at 0 either way)
            let widened = s.raw.terms.filter { t in
                guard let b = t.bounds, let f = settings.minmaxFloor[t.signal], f > 0, let n = t.normalised, n > 0 else { return false }
                return abs((b.hi - b.lo) - f) < 1e-12
            }.map(\.signal.rawValue)
            if !widened.isEmpty {
                notes.append("candidates closer than score.minmax_floor on \(widened.joined(separator: ", ")): range widened to the floor")
            }
        }
        if s.smoothing.smoothed - s.raw.total > settings.hysteresis, settings.recoverySmoothing < settings.smoothing {
            notes.append("recovering: raw \(fmt(s.raw.total)) is better than smoothed \(fmt(s.smoothing.smoothed)); "
                + "improvements are averaged in at recovery_smoothing \(fmt(settings.recoverySmoothing)), "
                + "degradation at smoothing \(fmt(settings.smoothing))")
        }
        let unheld = Scorer.priority(forBadness: s.smoothing.smoothed)
        if unheld != s.smoothing.priority {
            notes.append("hysteresis holds priority \(s.smoothing.priority) (smoothed \(fmt(s.smoothing.smoothed)) is within "
                + "\(fmt(settings.hysteresis)) of \(fmt(s.smoothing.anchor)); without it the priority would be \(unheld))")
        }
        if s.stale {
            let action = registry.stalePolicy == .filter ? "filtered out" : "kept with priority 0"
            notes.append("stale: last report \(fmt(s.age.seconds))s ago (stale_after \(fmt(registry.staleAfterSeconds))s); "
                + "\(action) by stale_policy \(registry.stalePolicy.rawValue)")
        }
        if s.damping.suppressed {
            notes.append("suppressed by flap damping: penalty \(fmt(s.damping.penalty.rounded())) > reuse \(fmt(damping.reuse)) "
                + "after \(s.damping.flaps) stale/fresh transitions; reused in \(fmt((s.damping.reuseInSeconds ?? 0).rounded(.up)))s "
                + "(half_life \(fmt(damping.halfLifeSeconds))s); filtered while other candidates remain, priority 0")
        } else if s.damping.penalty >= 1 {
            notes.append("flap damping penalty \(fmt(s.damping.penalty.rounded())) (suppressed above \(fmt(damping.suppress)), "
                + "halves every \(fmt(damping.halfLifeSeconds))s)")
        }
        let signals = explain ? s.raw.terms.map { t in
            ExplainedSignal(signal: t.signal.rawValue, unit: t.signal.unit, value: t.value, lo: t.bounds?.lo, hi: t.bounds?.hi,
                            normalised: t.normalised, configuredWeight: t.configuredWeight, weight: t.weight,
                            contribution: t.contribution, absent: t.absent)
        } : nil
        return ScoreExplanation(node: s.name, stale: s.stale, lastSeenSecondsAgo: s.age.seconds, raw: s.raw.total,
                                smoothed: s.smoothing.smoothed, anchor: s.smoothing.anchor,
                                publishedPriority: s.smoothing.priority, priority: s.extenderPriority,
                                neutral: s.raw.neutral, signals: signals, notes: notes,
                                dampingPenalty: s.damping.penalty, suppressed: s.damping.suppressed,
                                reuseInSeconds: s.damping.reuseInSeconds)
    }

    /// The `nodes.list` row of a node.
    public static func summary(_ s: NodeSnapshot) -> NodeSummary {
        let w = s.window
        return NodeSummary(node: s.name, agentVersion: w.agentVersion, lastSeenSecondsAgo: s.age.seconds,
                           reportCount: s.reportCount, stale: s.stale, signals: NodeSummary.signals(of: w),
                           scoreRaw: s.raw.total, scoreSmoothed: s.smoothing.smoothed,
                           priority: s.extenderPriority)
    }
}
