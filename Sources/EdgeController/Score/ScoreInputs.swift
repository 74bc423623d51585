// A node's score signals read out of a report, indexed by `ScoreSignal.index`.
import EdgeTelemetry

/// A node's signal values; nil = no samples in the window ("absent").
///
/// Stored as a fixed array indexed by signal (not a dictionary): min–max ranges are recomputed over
/// the whole fleet on every report, so this is on a hot path.
public struct ScoreInputs: Sendable, Equatable {
    private var storage: [Double?]

    public init(values: [ScoreSignal: Double]) {
        storage = ScoreSignal.allCases.map { values[$0] }
    }

    public subscript(signal: ScoreSignal) -> Double? {
        get { storage[signal.index] }
        set { storage[signal.index] = newValue }
    }

    /// Reads the signals from a report. The agent leaves a signal nil when it had no samples; the score
    /// keeps that distinction (see `Scorer`), it never turns "quiet" into "perfect".
    public init(_ window: TelemetryWindow) {
        storage = ScoreSignal.allCases.map { $0.value(in: window) }
    }
}
