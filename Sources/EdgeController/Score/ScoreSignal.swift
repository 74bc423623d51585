// How the score reads EdgeCore's `ScoreSignal`s out of a report, and in what order it lists them.
import EdgeCore

extension ScoreSignal {
    /// Unit of the raw value, for tables and explanations.
    public var unit: String {
        switch self {
        case .rttP99, .runqlatP95: return "ms"
        case .retrans, .cpu: return "ratio"
        case .dropWeighted: return "drops/s"
        }
    }

    /// Position in `allCases` (the order of `ScoreInputs` storage and of explanations).
    var index: Int {
        switch self {
        case .rttP99: return 0
        case .retrans: return 1
        case .dropWeighted: return 2
        case .runqlatP95: return 3
        case .cpu: return 4
        }
    }
}

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
