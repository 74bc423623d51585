// Memory of unreliable nodes: route-flap damping (RFC 2439) applied to a node's telemetry.
//
// A node whose agent keeps dropping out scores as healthy in every up phase: it is fresh, idle and
// its smoothing starts over. Damping remembers the flaps instead. Every stale→fresh and fresh→stale
// transition adds `penalty`; the penalty decays exponentially with `half_life`. Crossing `suppress`
// suppresses the node; it stays suppressed until the decayed penalty is below `reuse` (the gap between
// the two is hysteresis, so a suppressed node is not reused the moment it dips under `suppress`). The
// penalty is capped at `reuse · 2^(max_suppress/half_life)`, so that a node that stops flapping is
// reused at most `max_suppress` after its last flap, however long it flapped before.
//
// No timer runs: the fresh→stale transition is noticed when it matters, i.e. when the node reports
// again (both transitions are then added, each at its own instant), or when the state is read while
// the node is stale (`view(at:)` adds the pending transition to a copy).
import EdgeConfig
import Foundation

/// One node's damping state. Pure value arithmetic; the caller supplies the clock.
public struct DampingState: Sendable, Equatable {
    /// Penalty as of `at`.
    public private(set) var penalty: Double = 0
    public private(set) var at: MonotonicInstant
    /// Set when the penalty crossed `suppress`; cleared once it decays below `reuse`.
    public private(set) var suppressedFlag = false
    /// Transitions counted since the node was first seen.
    public private(set) var flaps: UInt64 = 0

    public init(at: MonotonicInstant) {
        self.at = at
    }

    /// Restores a saved state (the registry file).
    public init(penalty: Double, at: MonotonicInstant, suppressed: Bool, flaps: UInt64) {
        self.penalty = penalty
        self.at = at
        self.suppressedFlag = suppressed
        self.flaps = flaps
    }

    /// The penalty decayed to `now` (never grows: an instant before `at` reads as `at`).
    public func penalty(at now: MonotonicInstant, _ d: ControllerConfig.Damping) -> Double {
        guard penalty > 0 else { return 0 }
        let dt = max(0, (now - at).seconds)
        return penalty * Foundation.pow(2, -dt / d.halfLifeSeconds)
    }

    /// Suppressed at `now`: it crossed `suppress` and has not yet decayed below `reuse`.
    public func isSuppressed(at now: MonotonicInstant, _ d: ControllerConfig.Damping) -> Bool {
        suppressedFlag && penalty(at: now, d) >= d.reuse
    }

    /// When a suppressed node's penalty reaches `reuse` (nil when not suppressed).
    public func reuseAt(_ d: ControllerConfig.Damping) -> MonotonicInstant? {
        guard suppressedFlag, penalty > d.reuse else { return nil }
        let seconds = d.halfLifeSeconds * Foundation.log2(penalty / d.reuse)
        return at + .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }

    /// Adds one transition's penalty at `t`.
    public mutating func flap(at t: MonotonicInstant, _ d: ControllerConfig.Damping) {
        guard d.penalty > 0 else { return }
        let decayed = penalty(at: t, d)
        if suppressedFlag, decayed < d.reuse { suppressedFlag = false }
        penalty = min(decayed + d.penalty, d.ceiling)
        at = max(at, t)
        flaps += 1
        if penalty > d.suppress { suppressedFlag = true }
    }

    /// The state as it reads at `now` for a node last seen at `lastSeen`: when the node is stale, its
    /// fresh→stale transition (at `lastSeen + staleAfter`) is included.
    public func view(at now: MonotonicInstant, lastSeen: MonotonicInstant, staleAfter: Duration,
                     _ d: ControllerConfig.Damping) -> DampingState {
        guard now - lastSeen > staleAfter else { return self }
        var copy = self
        copy.flap(at: lastSeen + staleAfter, d)
        return copy
    }

    /// A report arrived at `now` after the previous one at `lastSeen`: when the gap made the node
    /// stale, that is two transitions (it went stale, and it is back).
    public mutating func reported(at now: MonotonicInstant, previous lastSeen: MonotonicInstant, staleAfter: Duration,
                                  _ d: ControllerConfig.Damping) {
        guard now - lastSeen > staleAfter else { return }
        flap(at: lastSeen + staleAfter, d)
        flap(at: now, d)
    }
}

/// What `edgectl score --explain`, /metrics and the extender show of a node's damping, at one instant.
public struct DampingView: Sendable, Equatable {
    /// Decayed penalty.
    public var penalty: Double
    public var suppressed: Bool
    /// Seconds until the node is reused (nil when not suppressed).
    public var reuseInSeconds: Double?
    public var flaps: UInt64

    public init(_ s: DampingState, at now: MonotonicInstant, _ d: ControllerConfig.Damping) {
        penalty = s.penalty(at: now, d)
        suppressed = s.isSuppressed(at: now, d)
        reuseInSeconds = suppressed ? s.reuseAt(d).map { max(0, ($0 - now).seconds) } : nil
        flaps = s.flaps
    }
}
