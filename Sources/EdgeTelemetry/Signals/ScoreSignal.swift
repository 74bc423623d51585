// The signals the controller's score is made of: the catalogue's entries with a score role,
// named as config files name them (score.weights, score.bounds, score.minmax_floor) and as
// score explanations show them.

/// A signal that contributes to a node's score.
public struct ScoreSignal: Sendable, Hashable, CaseIterable, Codable, RawRepresentable, CustomStringConvertible {
    /// The catalogue entry.
    public let signal: TelemetrySignal
    /// Its score role (every `ScoreSignal` has one).
    public let role: ScoreRole
    /// Position in `allCases`: the index of `ScoreInputs`' storage.
    public let index: Int

    private init(_ signal: TelemetrySignal, index: Int) {
        self.signal = signal
        role = signal.score!
        self.index = index
    }

    /// Every scored signal, in catalogue order.
    public static let allCases: [ScoreSignal] = TelemetrySignal.catalogue.filter { $0.score != nil }
        .enumerated().map { ScoreSignal($0.element, index: $0.offset) }

    /// The config name (`rtt_p99`).
    public var rawValue: String { role.configName }

    public init?(rawValue: String) {
        guard let s = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = s
    }

    /// The scored signal of a catalogue entry; crashes on an entry without a score role (a
    /// programming error caught by the first test that names it).
    public init(_ signal: TelemetrySignal) {
        guard let s = Self.allCases.first(where: { $0.signal == signal }) else {
            preconditionFailure("\(signal.name) has no score role in the signal catalogue")
        }
        self = s
    }

    public static let rttP99 = ScoreSignal(.rttP99)
    public static let retrans = ScoreSignal(.retransRate)
    public static let dropWeighted = ScoreSignal(.dropRateWeighted)
    public static let runqlatP95 = ScoreSignal(.runqlatP95)
    public static let cpu = ScoreSignal(.cpu)

    public static func == (a: ScoreSignal, b: ScoreSignal) -> Bool { a.index == b.index }
    public func hash(into h: inout Hasher) { h.combine(index) }
    public var description: String { rawValue }

    /// Unit of the raw value, for tables and explanations.
    public var unit: String { signal.unit }

    /// The signal's value in a telemetry window, nil when absent.
    public func value(in w: TelemetryWindow) -> Double? { signal.value(in: w) }

    /// `[score.weights]`, `[score.bounds]`, `[score.minmax_floor]` defaults, from the catalogue.
    public static var defaultWeights: [ScoreSignal: Double] { Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.role.defaultWeight) }) }
    public static var defaultBounds: [ScoreSignal: SignalBounds] { Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.role.defaultBounds) }) }
    public static var defaultMinmaxFloor: [ScoreSignal: Double] { Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.role.defaultMinmaxFloor) }) }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let s = ScoreSignal(rawValue: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unknown score signal \"\(text)\""))
        }
        self = s
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// Closed interval [lo, hi] that a signal is normalised over (lo ↦ 0, hi ↦ 1).
public struct SignalBounds: Sendable, Equatable, Codable {
    public var lo: Double
    public var hi: Double

    /// Bounds with lo < hi (not checked here; config parsing checks it).
    public init(lo: Double, hi: Double) {
        self.lo = lo
        self.hi = hi
    }
}
