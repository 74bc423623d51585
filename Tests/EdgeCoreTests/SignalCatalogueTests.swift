// The signal catalogue against the wire formats it describes: every name it gives must be the
// name the JSON, the config and the tables actually use, and the score's defaults must not move.
import EdgeAPI
import EdgeCore
import EdgeTelemetry
import Foundation
import XCTest

final class SignalCatalogueTests: XCTestCase {
    /// A window with every signal present and distinct.
    static let full = TelemetryWindow(
        node: "n1", agentVersion: "0.1.0", generatedAt: 1_700_000_000, windowSeconds: 10,
        rttP50Ms: 1.5, rttP99Ms: 9.25, rttSamples: 420, retransRate: 0.0125, retransmits: 5, segmentsOut: 400,
        dropRate: 3.5, dropRateWeighted: 1.75, runqlatP95Ms: 0.8, runqlatSamples: 77, cpuUtilization: 0.25)

    func testNamesAreUniqueInEveryNamespace() {
        let c = TelemetrySignal.catalogue
        XCTAssertEqual(Set(c.map(\.name)).count, c.count, "JSON names")
        let metrics = c.compactMap { $0.metric?.name } + [SignalMetric.agentUp.name]
        XCTAssertEqual(Set(metrics).count, metrics.count, "Prometheus names")
        let scoreNames = c.compactMap { $0.score?.configName }
        XCTAssertEqual(Set(scoreNames).count, scoreNames.count, "score config names")
        let filterKeys = c.compactMap { $0.filter?.key }
        XCTAssertEqual(Set(filterKeys).count, filterKeys.count, "filter keys")
        for m in metrics {
            XCTAssertNotNil(m.range(of: "^[a-zA-Z_:][a-zA-Z0-9_:]*$", options: .regularExpression), "\(m) is a Prometheus name")
        }
    }

    /// Every catalogue name is a field of the window's JSON, and every numeric field of that JSON
    /// is in the catalogue: a field added to the window without an entry fails here.
    func testCatalogueNamesAreTheWindowsJSONFields() throws {
        let json = try JSONSerialization.jsonObject(with: EdgeJSON.encoder().encode(Self.full)) as! [String: Any]
        let described: Set<String> = ["node", "agent_version", "generated_at", "drops", "peers"]
        XCTAssertEqual(Set(json.keys).subtracting(described), Set(TelemetrySignal.catalogue.map(\.name)))
        for s in TelemetrySignal.catalogue {
            XCTAssertEqual((json[s.name] as? NSNumber)?.doubleValue, s.value(in: Self.full), s.name)
        }
    }

    /// Writing each signal's value into an empty window and reading it back gives the value.
    func testFieldsReadWhatTheyWrite() {
        var w = TelemetryWindow(node: "n1", agentVersion: "0.1.0", generatedAt: 1_700_000_000, windowSeconds: 0)
        for s in TelemetrySignal.catalogue { s.set(s.value(in: Self.full), in: &w) }
        XCTAssertEqual(w, Self.full)
        for s in TelemetrySignal.catalogue where s.validity != .any {
            var absent = Self.full
            s.set(nil, in: &absent)
            switch s.field {
            case .optional: XCTAssertNil(s.value(in: absent), s.name)
            case .plain, .count: XCTAssertEqual(s.value(in: absent), 0, s.name)
            }
        }
    }

    func testScoreSignalsAndTheirDefaultsAreTheDocumentedOnes() {
        XCTAssertEqual(ScoreSignal.allCases.map(\.rawValue), ["rtt_p99", "retrans", "drop_weighted", "runqlat_p95", "cpu"])
        XCTAssertEqual(ScoreSignal.allCases.map(\.index), Array(0..<5))
        XCTAssertEqual(ScoreSignal.defaultWeights, [.rttP99: 0.30, .retrans: 0.20, .dropWeighted: 0.20, .runqlatP95: 0.15, .cpu: 0.15])
        XCTAssertEqual(ScoreSignal.defaultBounds, [.rttP99: SignalBounds(lo: 0, hi: 200), .retrans: SignalBounds(lo: 0, hi: 0.05),
                                                   .dropWeighted: SignalBounds(lo: 0, hi: 100), .runqlatP95: SignalBounds(lo: 0, hi: 20),
                                                   .cpu: SignalBounds(lo: 0, hi: 1)])
        XCTAssertEqual(ScoreSignal.defaultMinmaxFloor, [.rttP99: 1, .retrans: 0.005, .dropWeighted: 1, .runqlatP95: 1, .cpu: 0.1])
        XCTAssertEqual(ScoreSignal(rawValue: "cpu"), .cpu)
        XCTAssertNil(ScoreSignal(rawValue: "cpu_utilization"), "config names, not JSON names")
        XCTAssertEqual(ScoreSignal.rttP99.value(in: Self.full), 9.25)
        XCTAssertEqual(ScoreSignal.cpu.unit, "ratio")
        XCTAssertEqual(ScoreSignal.dropWeighted.unit, "drops/s")
    }

    func testScoreSignalCodesAsItsConfigName() throws {
        let data = try JSONEncoder().encode([ScoreSignal.runqlatP95])
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["runqlat_p95"]"#)
        XCTAssertEqual(try JSONDecoder().decode([ScoreSignal].self, from: data), [.runqlatP95])
        XCTAssertThrowsError(try JSONDecoder().decode([ScoreSignal].self, from: Data(#"["rtt"]"#.utf8)))
    }

    func testFilterKeysAndReasonWordsAreTheDocumentedOnes() {
        XCTAssertEqual(TelemetrySignal.filterable.map { $0.filter!.key }, ["max_rtt_p99_ms", "max_retrans_rate", "max_drop_rate", "max_cpu"])
        XCTAssertEqual(TelemetrySignal.filterable.map { $0.filter!.reasonName }, ["rtt_p99", "retrans_rate", "drop_rate", "cpu"])
    }

    /// `nodes.list` rows keep the wire format they had before the catalogue: flat snake_case fields,
    /// absent signals left out; readable with EdgeJSON and with a plain decoder.
    func testNodeSummaryWireFormat() throws {
        let row = NodeSummary(node: "n1", agentVersion: "0.1.0", lastSeenSecondsAgo: 2, reportCount: 3, stale: false,
                              signals: NodeSummary.signals(of: Self.full), scoreRaw: 0.25, scoreSmoothed: 0.3, priority: 7)
        let data = try EdgeJSON.encoder().encode(row)
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["node", "agent_version", "last_seen_seconds_ago", "report_count", "stale",
                                        "rtt_p99_ms", "retrans_rate", "drop_rate", "drop_rate_weighted", "runqlat_p95_ms",
                                        "cpu_utilization", "score_raw", "score_smoothed", "priority"])
        XCTAssertEqual(json["rtt_p99_ms"] as? Double, 9.25)
        XCTAssertEqual(try EdgeJSON.decoder().decode(NodeSummary.self, from: data), row)

        var quiet = Self.full
        quiet.rttP99Ms = nil
        let sparse = NodeSummary(node: "n2", agentVersion: "0.1.0", lastSeenSecondsAgo: 0, reportCount: 1, stale: true,
                                 signals: NodeSummary.signals(of: quiet), scoreRaw: 0, scoreSmoothed: 0, priority: 0)
        let sparseData = try EdgeJSON.encoder().encode(sparse)
        XCTAssertFalse(String(decoding: sparseData, as: UTF8.self).contains("rtt_p99_ms"), "absent is left out, not null")
        let plain = JSONDecoder()
        let camel = try JSONEncoder().encode(sparse)  // no key strategy: signal keys as written, fixed keys camelCase
        XCTAssertEqual(try plain.decode(NodeSummary.self, from: camel), sparse)
        XCTAssertNil(try EdgeJSON.decoder().decode(NodeSummary.self, from: sparseData)[.rttP99])
    }
}
