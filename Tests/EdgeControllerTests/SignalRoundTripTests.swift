// What the agent exports is what the controller reads back: the agent's real /metrics exposition
// (AgentMetrics) parsed and joined by the Prometheus source's code (TelemetryJoin) gives back the
// window it was made from. A gauge renamed on one side only fails here.
@testable import EdgeController
import EdgeAgent
import EdgeTelemetry
import XCTest

final class SignalRoundTripTests: XCTestCase {
    static let window = TelemetryWindow(
        node: "n1", agentVersion: "0.1.0", generatedAt: 1_700_000_000, windowSeconds: 10,
        rttP50Ms: 1.5, rttP99Ms: 9.25, rttSamples: 420, retransRate: 0.0125, retransmits: 5, segmentsOut: 400,
        dropRate: 3.5, dropRateWeighted: 1.75,
        drops: [DropReasonStat(reason: "NO_SOCKET", count: 35, ratePerSecond: 3.5, weight: 0.5)],
        runqlatP95Ms: 0.8, runqlatSamples: 77, cpuUtilization: 0.25)

    /// `name value` lines of an exposition, as Prometheus reads them, without labels (labelled series are per-reason drops).
    static func unlabelledSamples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.contains("{") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            // Prometheus' text parser (Go's ParseFloat) takes NaN in any case, as Double(String) does
            out[String(parts[0])] = Double(String(parts[1]))
        }
        return out
    }

    func testTheGaugesTheAgentExportsAreTheOnesTheControllerQueries() {
        let metrics = AgentMetrics()
        metrics.update(from: Self.window)
        let exported = Self.unlabelledSamples(String(decoding: metrics.exposition(), as: UTF8.self))
        XCTAssertEqual(Set(exported.keys), Set(AgentGauge.allCases.map(\.metric)))
    }

    func testAWindowSurvivesExpositionAndJoin() throws {
        for window in [Self.window, TelemetryWindow(node: "n1", agentVersion: "0.1.0", generatedAt: 0, windowSeconds: 3)] {
            let metrics = AgentMetrics()
            metrics.update(from: window)
            let exported = Self.unlabelledSamples(String(decoding: metrics.exposition(), as: UTF8.self))
            var gauges: [AgentGauge: [PrometheusSample]] = [:]
            for g in AgentGauge.allCases {
                let v = try XCTUnwrap(exported[g.metric], g.metric)
                gauges[g] = [PrometheusSample(labels: ["node": "n1"], timestamp: 1_700_000_000, value: v)]
            }
            let joined = TelemetryJoin.join(scrapeTimes: [PrometheusSample(labels: ["node": "n1"], timestamp: 1_700_000_000, value: 1_700_000_000)],
                                            gauges: gauges, nodeLabel: "node")
            XCTAssertEqual(joined.problems, [:])
            let back = try XCTUnwrap(joined.windows.first)
            for s in TelemetrySignal.exported {
                XCTAssertEqual(s.value(in: back), s.value(in: window), "\(s.name) via \(s.metric!.name)")
            }
        }
    }

    func testTheFilterValuesFitTheirInlineStorage() {
        XCTAssertLessThanOrEqual(TelemetrySignal.filterable.count, FilterValues.capacity)
        let v = FilterValues { $0.value(in: Self.window) }
        for (i, s) in TelemetrySignal.filterable.enumerated() { XCTAssertEqual(v[i], s.value(in: Self.window), s.name) }
    }
}
