// What a telemetry signal is: one description that every place handling signals loops over
// (the agent's window and /metrics, the controller's ingest checks and Prometheus source, the
// score, the extender's filter, edgectl's tables). The descriptions themselves are in
// SignalCatalogue.swift; this file only says what a description holds.

/// One signal of the telemetry window, described once.
///
/// Identity is `name` (the JSON field of the window); two descriptions with one name cannot
/// both be in the catalogue (a test checks it).
public struct TelemetrySignal: Sendable, Hashable, CustomStringConvertible {
    /// The window's JSON field (`rtt_p99_ms`); also the field name in ingest errors.
    public let name: String
    /// How the value is made from the window's sums.
    public let source: SignalSource
    /// Where the value lives in `TelemetryWindow`.
    public let field: SignalField
    /// Unit text for tables and explanations ("ms", "ratio", "drops/s").
    public let unit: String
    /// How tables print the value.
    public let format: SignalFormat
    /// What ingest accepts (reports and Prometheus samples alike).
    public let validity: SignalValidity
    /// The agent's Prometheus gauge; nil = not exported.
    public let metric: SignalMetric?
    /// The signal's part in the score; nil = not scored.
    public let score: ScoreRole?
    /// The extender filter's limit on it; nil = no limit can be set.
    public let filter: FilterRole?
    /// `edgectl telemetry`: the row label and its SAMPLES cell; nil = no row.
    public let telemetryRow: TelemetryRow?
    /// `edgectl nodes`: the column heading; nil = not a column (the JSON row still carries it).
    public let nodesColumn: String?
    /// Carried in `nodes.list` rows.
    public let inNodeList: Bool

    public init(name: String, source: SignalSource, field: SignalField, unit: String, format: SignalFormat,
                validity: SignalValidity, metric: SignalMetric? = nil, score: ScoreRole? = nil,
                filter: FilterRole? = nil, telemetryRow: TelemetryRow? = nil, nodesColumn: String? = nil,
                inNodeList: Bool = false) {
        self.name = name
        self.source = source
        self.field = field
        self.unit = unit
        self.format = format
        self.validity = validity
        self.metric = metric
        self.score = score
        self.filter = filter
        self.telemetryRow = telemetryRow
        self.nodesColumn = nodesColumn
        self.inNodeList = inNodeList || nodesColumn != nil
    }

    public var description: String { name }

    /// `name` as a snake_case-converting JSON decoder presents it (`rtt_p99_ms` → `rttP99Ms`).
    public var camelCaseName: String {
        let parts = name.split(separator: "_")
        guard let first = parts.first else { return name }
        return String(first) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    public static func == (a: TelemetrySignal, b: TelemetrySignal) -> Bool { a.name == b.name }
    public func hash(into h: inout Hasher) { h.combine(name) }

    /// The value in `window`; nil when absent (no samples).
    public func value(in window: TelemetryWindow) -> Double? { field.read(window) }

    /// Sets the value in `window`; nil makes an optional field absent and a plain one 0.
    public func set(_ value: Double?, in window: inout TelemetryWindow) { field.write(value, into: &window) }
}

/// How a signal's value is computed from the window's sums.
public enum SignalSource: Sendable {
    /// A quantile of a histogram of nanoseconds, in milliseconds; absent without samples.
    case quantile(TelemetryHistogram, Double)
    /// The number of samples in a histogram.
    case samples(TelemetryHistogram)
    /// A counter's sum over the window.
    case count(TelemetryCounter)
    /// numerator / denominator, absent when the denominator is 0; clamped to [0, 1] if asked.
    case ratio(TelemetryCounter, over: TelemetryCounter, clamped: Bool)
    /// Drops per covered second, all reasons, or weighted per reason (telemetry.drop_weights).
    case dropsPerSecond(weighted: Bool)
    /// Seconds the window covers.
    case coveredSeconds
}

/// Where a signal is stored in `TelemetryWindow`: the three kinds of field it has.
public enum SignalField: @unchecked Sendable {
    // Key paths are immutable values; `@unchecked` because the stdlib does not mark them Sendable.
    /// nil = absent.
    case optional(WritableKeyPath<TelemetryWindow, Double?>)
    /// Always present (a rate that is 0 when nothing happened).
    case plain(WritableKeyPath<TelemetryWindow, Double>)
    /// A count; written from a Double only when it is a whole number in range (else 0).
    case count(WritableKeyPath<TelemetryWindow, UInt64>)

    func read(_ w: TelemetryWindow) -> Double? {
        switch self {
        case .optional(let k): return w[keyPath: k]
        case .plain(let k): return w[keyPath: k]
        case .count(let k): return Double(w[keyPath: k])
        }
    }

    /// Writes an exact count (a Double would round counts above 2^53).
    func setCount(_ n: UInt64, into w: inout TelemetryWindow) {
        switch self {
        case .count(let k): w[keyPath: k] = n
        default: write(Double(n), into: &w)
        }
    }

    func write(_ v: Double?, into w: inout TelemetryWindow) {
        switch self {
        case .optional(let k): w[keyPath: k] = v
        case .plain(let k): w[keyPath: k] = v ?? 0
        case .count(let k):
            guard let v, v.isFinite, v >= 0, v < 1.8e19 else { w[keyPath: k] = 0; return }
            w[keyPath: k] = UInt64(v)
        }
    }
}

/// How tables print a value.
public enum SignalFormat: Sendable {
    case milliseconds, ratio, percent, rate, count, seconds
}

/// What ingest accepts for a value (absent is always accepted).
public enum SignalValidity: Sendable {
    /// Finite and ≥ 0.
    case nonNegative
    /// In [0, 1].
    case fraction
    /// Anything the field can hold (counts).
    case any
}

/// A gauge of the agent's `/metrics`. Absent values are exported as NaN, so "no samples" stays
/// distinguishable from a real 0; the controller's Prometheus source reads NaN back as absent.
public struct SignalMetric: Sendable, Equatable {
    public let name: String
    public let help: String

    public init(_ name: String, help: String) {
        self.name = name
        self.help = help
    }
}

/// A signal's part in the score: its name in `[score.weights]`, `[score.bounds]` and
/// `[score.minmax_floor]`, and the defaults of all three.
public struct ScoreRole: Sendable, Equatable {
    /// The config key (`rtt_p99`), also the signal's name in score explanations.
    public let configName: String
    public let defaultWeight: Double
    public let defaultBounds: SignalBounds
    /// The narrowest range min-max normalisation spreads over [0, 1].
    public let defaultMinmaxFloor: Double

    public init(_ configName: String, weight: Double, bounds: ClosedRange<Double>, minmaxFloor: Double) {
        self.configName = configName
        defaultWeight = weight
        defaultBounds = SignalBounds(lo: bounds.lowerBound, hi: bounds.upperBound)
        defaultMinmaxFloor = minmaxFloor
    }
}

/// A limit the extender's /filter can put on a signal (`[filter]` in controller.toml).
public struct FilterRole: Sendable, Equatable {
    /// The config key (`max_rtt_p99_ms`).
    public let key: String
    /// The word in filter reasons and the `reason` label of
    /// `edgenode_extender_filtered_nodes_total` (`rtt_p99`).
    public let reasonName: String
    /// Largest limit accepted (a ratio's is 1); nil = no upper bound.
    public let maximum: Double?

    public init(_ key: String, reason: String, maximum: Double? = nil) {
        self.key = key
        reasonName = reason
        self.maximum = maximum
    }
}

/// A row of `edgectl telemetry`.
public struct TelemetryRow: Sendable {
    public let label: String
    /// The SAMPLES cell: what the value was computed from.
    public let samples: @Sendable (TelemetryWindow) -> String

    public init(_ label: String, samples: @escaping @Sendable (TelemetryWindow) -> String = { _ in "" }) {
        self.label = label
        self.samples = samples
    }
}
