// One value per filterable signal (`TelemetrySignal.filterable`, in that order), stored inline so
// that reading them per /filter candidate costs neither reference counting nor hashing: a node's
// values (computed once per report, `NodeRecord`) and the configured limits (computed once per
// policy change, `ExtenderPolicy`).
import EdgeTelemetry

struct FilterValues: Sendable {
    /// Room for this many filterable signals (a test checks the catalogue fits).
    static let capacity = 8
    private var values = InlineArray<8, Double?>(repeating: nil)

    /// `value(signal)` for each filterable signal.
    init(_ value: (TelemetrySignal) -> Double?) {
        for (i, signal) in TelemetrySignal.filterable.enumerated() { values[i] = value(signal) }
    }

    subscript(i: Int) -> Double? { values[i] }
}
