// The controller's memory: the latest window per node and its score state.
//
// One lock around a dictionary. Reports arrive every few seconds per node and extender calls look up
// a few thousand names at a time; both are short critical sections, so a lock beats an actor here
// (no suspension points, and the extender handler reads many nodes under one acquisition).
import EdgeConfig
import EdgeTelemetry
import Foundation

/// Why a report was not taken into the registry.
public enum RegistryError: Error, Equatable, CustomStringConvertible {
    /// `max_nodes` nodes are tracked and none of them is stale enough to make room.
    case full(maxNodes: Int)

    public var description: String {
        switch self {
        case let .full(maxNodes):
            return "registry is full (registry.max_nodes = \(maxNodes)) and no stale node can be evicted"
        }
    }
}

/// Thread-safe map node → latest telemetry and score state.
public final class NodeRegistry: @unchecked Sendable {
    // @unchecked: all mutable state is behind `lock`.
    private let lock = NSLock()
    private var nodes: [String: NodeRecord] = [:]
    private var accepted: UInt64 = 0
    /// Nodes `restore` put back at start.
    private var restoredAtStart = 0

    /// [score]; replaced by `apply(score:)` on reload (SIGHUP), hence under the lock.
    private var _scoreSettings: ControllerConfig.Score
    public var scoreSettings: ControllerConfig.Score { lock.withLock { _scoreSettings } }
    public let settings: ControllerConfig.Registry
    /// `settings.staleAfterSeconds` as a Duration.
    public let staleAfter: Duration
    private var smoother: ScoreSmoother
    public let damping: ControllerConfig.Damping

    public init(score: ControllerConfig.Score, registry: ControllerConfig.Registry,
                damping: ControllerConfig.Damping = ControllerConfig.defaultDamping) {
        self._scoreSettings = score
        self.settings = registry
        self.damping = damping
        self.staleAfter = .milliseconds(Int64((registry.staleAfterSeconds * 1000).rounded()))
        self.smoother = ScoreSmoother(score)
    }

    /// New score settings (weights, bounds, normalisation, smoothing, hysteresis), effective at
    /// once: every node's raw score is recomputed from its last window, and its smoothing starts
    /// over from that score. Keeping the old average would hold each node at a score made with
    /// the weights the operator just replaced, for as long as the EWMA takes to forget them.
    /// Returns how many nodes were rescored.
    @discardableResult
    public func apply(score: ControllerConfig.Score, now: MonotonicInstant = .now) -> Int {
        lock.lock()
        defer { lock.unlock() }
        guard score != _scoreSettings else { return 0 }
        _scoreSettings = score
        smoother = ScoreSmoother(score)
        let fresh = nodes.values.filter { !$0.isStale(at: now, staleAfter: staleAfter) }.map(\.inputs)
        let ranges: SignalRanges? = score.normalisation == .minmax ? Scorer.ranges(over: fresh) : nil
        let median = score.outlierRatio > 0 ? Scorer.median(of: .rttP99, over: fresh) : nil
        for name in Array(nodes.keys) {
            let raw = Scorer.score(nodes[name]!.inputs, settings: score, ranges: ranges, rttMedian: median)
            nodes[name]!.raw = raw
            nodes[name]!.smoothing = smoother.next(previous: nil, raw: raw.total)
        }
        return nodes.count
    }

    /// Takes a validated report in, updating the node's smoothed score. Returns the node's new state.
    ///
    /// When the node's previous report is already stale, its smoothing state starts over: an average
    /// that includes minutes-old data would hold a recovered (or degraded) node at its old score.
    @discardableResult
    public func ingest(_ window: TelemetryWindow, now: MonotonicInstant = .now) throws -> NodeSnapshot {
        lock.lock()
        defer { lock.unlock() }
        let inputs = ScoreInputs(window)
        let previous = nodes[window.node]
        if previous == nil, nodes.count >= settings.maxNodes {
            try evictOneStale(now: now)
        }
        let raw: RawScore
        let minmax = _scoreSettings.normalisation == .minmax
        if minmax || _scoreSettings.outlierRatio > 0 {
            let fresh = freshInputs(including: window.node, inputs, now: now)
            raw = Scorer.score(inputs, settings: _scoreSettings, ranges: minmax ? Scorer.ranges(over: fresh) : nil,
                               rttMedian: _scoreSettings.outlierRatio > 0 ? Scorer.median(of: .rttP99, over: fresh) : nil)
        } else {
            raw = Scorer.score(inputs, settings: _scoreSettings)
        }
        let carried = previous.flatMap { $0.isStale(at: now, staleAfter: staleAfter) ? nil : $0.smoothing }
        var damping = previous?.damping ?? DampingState(at: now)
        // A node restored from the state file was silent because the controller was down, not
        // because the node flapped: its first report after the restart is not a transition.
        if let previous, !previous.restored {
            damping.reported(at: now, previous: previous.lastSeen, staleAfter: staleAfter, self.damping)
        }
        // Only the aggregate fields are kept: nothing in the controller reads the per-peer RTTs or the
        // per-reason drops (they stay with the agent, `edgectl telemetry`), and keeping them made a
        // node's record grow with whatever its report listed (issue 13, finding 10). A record is
        // then bounded by the string limits of `ReportValidation`.
        var kept = window
        kept.peers = []
        kept.drops = []
        let record = NodeRecord(
            window: kept, inputs: inputs,
            firstSeen: previous?.firstSeen ?? now, lastSeen: now,
            reportCount: (previous?.reportCount ?? 0) + 1,
            raw: raw, smoothing: smoother.next(previous: carried, raw: raw.total), damping: damping)
        nodes[window.node] = record
        accepted += 1
        return snapshot(of: window.node, record, now: now)
    }

    /// All nodes, sorted by name.
    public func snapshots(now: MonotonicInstant = .now) -> [NodeSnapshot] {
        lock.lock()
        defer { lock.unlock() }
        return nodes.keys.sorted().map { snapshot(of: $0, nodes[$0]!, now: now) }
    }

    /// One node, or nil if it never reported.
    public func snapshot(node: String, now: MonotonicInstant = .now) -> NodeSnapshot? {
        lock.lock()
        defer { lock.unlock() }
        return nodes[node].map { snapshot(of: node, $0, now: now) }
    }

    /// Counts for status output.
    public func counts(now: MonotonicInstant = .now) -> (total: Int, fresh: Int, stale: Int, reportsAccepted: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        let stale = nodes.values.filter { $0.isStale(at: now, staleAfter: staleAfter) }.count
        return (nodes.count, nodes.count - stale, stale, accepted)
    }

    /// Nodes loaded from the state file at start, and how many of them have reported since.
    public func restoredCounts() -> (restored: Int, heard: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (restoredAtStart, restoredAtStart - nodes.values.filter(\.restored).count)
    }

    // MARK: - the state file (`RegistryStore`)

    /// Every node in its saved form, times as ages before `now`.
    func savedNodes(now: MonotonicInstant) -> [RegistryFile.SavedNode] {
        lock.lock()
        defer { lock.unlock() }
        return nodes.keys.sorted().map { name in
            let r = nodes[name]!
            var window = r.window
            window.peers = []
            let d = r.damping.view(at: now, lastSeen: r.lastSeen, staleAfter: staleAfter, damping)
            return RegistryFile.SavedNode(
                window: window, reportCount: r.reportCount,
                lastSeenAgeSeconds: (now - r.lastSeen).seconds, firstSeenAgeSeconds: (now - r.firstSeen).seconds,
                raw: r.raw, smoothing: r.smoothing,
                dampingPenalty: d.penalty(at: now, damping), suppressed: d.isSuppressed(at: now, damping), flaps: d.flaps)
        }
    }

    /// Puts saved nodes back, `sinceSave` seconds after they were saved; nodes already present
    /// (reported in the meantime) keep their live state. At most `max_nodes`, most recent first.
    /// Returns how many were restored.
    func restore(_ saved: [RegistryFile.SavedNode], sinceSave: Double, now: MonotonicInstant) -> Int {
        lock.lock()
        defer { lock.unlock() }
        // Ages are capped at a day: older is stale either way, and an instant far before boot is not needed.
        func ago(_ seconds: Double) -> MonotonicInstant {
            let s = min(max(0, seconds + sinceSave), 86400)
            return now - .milliseconds(Int64(s * 1000))
        }
        var count = 0
        for n in saved.sorted(by: { $0.lastSeenAgeSeconds < $1.lastSeenAgeSeconds })
        where nodes[n.window.node] == nil && nodes.count < settings.maxNodes && !n.window.node.isEmpty {
            let lastSeen = ago(n.lastSeenAgeSeconds)
            var record = NodeRecord(
                window: n.window, inputs: ScoreInputs(n.window), firstSeen: min(ago(n.firstSeenAgeSeconds), lastSeen),
                lastSeen: lastSeen, reportCount: n.reportCount, raw: n.raw, smoothing: n.smoothing,
                damping: DampingState(penalty: n.dampingPenalty, at: ago(0), suppressed: n.suppressed, flaps: n.flaps))
            record.restored = true
            nodes[n.window.node] = record
            count += 1
        }
        restoredAtStart += count
        return count
    }

    /// Runs `body` with the lock held and a lookup function; for callers that read many nodes at once
    /// (the extender), so that one request sees one consistent state and pays for one lock.
    func withRecords<R>(_ body: ((String) -> NodeRecord?) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body { self.nodes[$0] }
    }

    /// `withRecords` for callers that read a few fields of thousands of records (the extender):
    /// `project` runs on each record where it is stored, so only its result is copied out.
    /// (A record holds a `ContinuousClock.Instant`, a resilient type, so copying one goes through
    /// value witnesses: the whole window, peer list and score terms were retained and released per
    /// candidate, a third of a 1 000-candidate extender call.) `project` must only read.
    func withRecords<R, P>(reading project: (inout NodeRecord) -> P, _ body: ((String) -> P?) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try withoutActuallyEscaping(project) { project in
            try body { name in
                // `values[i]` is accessed in place (its `_modify`); the getters would copy the record.
                guard let i = self.nodes.index(forKey: name) else { return nil }
                return project(&self.nodes.values[i])
            }
        }
    }

    // MARK: - private (lock held)

    private func snapshot(of name: String, _ r: NodeRecord, now: MonotonicInstant) -> NodeSnapshot {
        NodeSnapshot(name: name, window: r.window, age: now - r.lastSeen, reportCount: r.reportCount,
                     stale: r.isStale(at: now, staleAfter: staleAfter), raw: r.raw, smoothing: r.smoothing,
                     damping: DampingView(r.damping.view(at: now, lastSeen: r.lastSeen, staleAfter: staleAfter, damping),
                                          at: now, damping), restored: r.restored)
    }

    /// The fresh nodes' inputs, with `name`'s new inputs in place of its old ones: what min–max
    /// ranges and the outlier median are taken over.
    private func freshInputs(including name: String, _ inputs: ScoreInputs, now: MonotonicInstant) -> [ScoreInputs] {
        var candidates: [ScoreInputs] = [inputs]
        candidates.reserveCapacity(nodes.count + 1)
        for (other, record) in nodes where other != name && !record.isStale(at: now, staleAfter: staleAfter) {
            candidates.append(record.inputs)
        }
        return candidates
    }

    /// Makes room by dropping the node that has been silent longest, if it is stale.
    private func evictOneStale(now: MonotonicInstant) throws {
        guard let oldest = nodes.min(by: { $0.value.lastSeen < $1.value.lastSeen }),
              oldest.value.isStale(at: now, staleAfter: staleAfter) else {
            throw RegistryError.full(maxNodes: settings.maxNodes)
        }
        nodes.removeValue(forKey: oldest.key)
    }
}
