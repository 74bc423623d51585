// The Prometheus HTTP API's JSON as the controller reads it, the PromQL it sends, and the join of
// per-gauge answers into one window per node. The bodies are written the way Prometheus 2.x
// formats them (values as strings, "NaN"/"+Inf"/"-Inf", errors with errorType).
import EdgeController
import EdgeTelemetry
import Foundation
import XCTest

final class PrometheusParsingTests: XCTestCase {
    func vector(_ json: String, status: Int = 200) throws -> [PrometheusSample] {
        try PrometheusResponse.vector(from: Data(json.utf8), httpStatus: status)
    }

    func error(_ json: String, status: Int = 200, file: StaticString = #filePath, line: UInt = #line) -> PrometheusQueryError? {
        do {
            let v = try vector(json, status: status)
            XCTFail("no error, got \(v)", file: file, line: line)
            return nil
        } catch {
            guard let e = error as? PrometheusQueryError else {
                XCTFail("not a PrometheusQueryError: \(error)", file: file, line: line)
                return nil
            }
            return e
        }
    }

    // MARK: response parsing

    func testVectorWithLabelsTimestampsAndSpecialValues() throws {
        let samples = try vector("""
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"__name__":"ebpf_rtt_p99_milliseconds","job":"edgenode","node":"n1"},"value":[1700000000.123,"12.5"]},
              {"metric":{"node":"n2"},"value":[1700000000.123,"NaN"]},
              {"metric":{"node":"n3"},"value":[1700000000.123,"+Inf"]},
              {"metric":{"node":"n4"},"value":[1700000000,"-Inf"]},
              {"metric":{"node":"n5"},"value":[1700000000,"1e-05"]}]},
             "warnings":["a warning Prometheus may add"]}
            """)
        XCTAssertEqual(samples.count, 5)
        XCTAssertEqual(samples[0], PrometheusSample(labels: ["__name__": "ebpf_rtt_p99_milliseconds", "job": "edgenode", "node": "n1"],
                                                    timestamp: 1_700_000_000.123, value: 12.5))
        XCTAssertTrue(samples[1].value.isNaN)
        XCTAssertEqual(samples[2].value, .infinity)
        XCTAssertEqual(samples[3].value, -.infinity)
        XCTAssertEqual(samples[3].timestamp, 1_700_000_000)
        XCTAssertEqual(samples[4].value, 0.00001)
    }

    func testEmptyVector() throws {
        XCTAssertEqual(try vector(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#), [])
    }

    func testSampleValues() {
        XCTAssertEqual(PrometheusResponse.number("0"), 0)
        XCTAssertEqual(PrometheusResponse.number("-3.25"), -3.25)
        XCTAssertEqual(PrometheusResponse.number("1.5e+06"), 1_500_000)
        XCTAssertEqual(PrometheusResponse.number("Inf"), .infinity)
        for bad in ["", "nan", "inf", "infinity", "0x10", "1,5", "twelve"] {
            XCTAssertNil(PrometheusResponse.number(bad), bad)
        }
    }

    func testErrorBodyNamesTypeAndMessage() {
        let e = error(#"{"status":"error","errorType":"bad_data","error":"1:1: parse error: unexpected \"}\""}"#, status: 400)
        XCTAssertEqual(e, .api(errorType: "bad_data", error: #"1:1: parse error: unexpected "}""#, httpStatus: 400))
        XCTAssertEqual(e?.description, #"Prometheus rejected the query (HTTP 400, bad_data): 1:1: parse error: unexpected "}""#)
        // 503 while the TSDB is still starting, 422 for an execution error: same shape
        XCTAssertEqual(error(#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#, status: 503),
                       .api(errorType: "unavailable", error: "TSDB not ready", httpStatus: 503))
        XCTAssertEqual(error(#"{"status":"error"}"#, status: 422), .api(errorType: "unknown", error: "(no message)", httpStatus: 422))
    }

    func testNonAPIBodies() {
        // a proxy's page, a wrong path: the HTTP status and the start of the body
        XCTAssertEqual(error("<html>502 Bad Gateway</html>", status: 502), .http(status: 502, body: "<html>502 Bad Gateway</html>"))
        XCTAssertEqual(error("", status: 404), .http(status: 404, body: "(empty body)"))
        XCTAssertEqual(error(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#, status: 500),
                       .http(status: 500, body: #"{"status":"success","data":{"resultType":"vector","result":[]}}"#))
        guard case let .malformed(reason)? = error("not json") else { return XCTFail("not malformed") }
        XCTAssertFalse(reason.isEmpty)
    }

    func testMalformedBodiesNameThePlace() {
        func reason(_ json: String) -> String {
            guard case let .malformed(r)? = error(json) else { XCTFail("not malformed: \(json)"); return "" }
            return r
        }
        XCTAssertEqual(reason(#"{"status":"success"}"#), #""status": "success" without "data""#)
        XCTAssertEqual(reason(#"{"status":"maybe"}"#), #""status" is "maybe", expected "success" or "error""#)
        XCTAssertTrue(reason(#"{"data":{}}"#).contains("missing field \"status\""))
        let value = reason(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"fast"]}]}}"#)
        XCTAssertTrue(value.contains("data.result[0].value") && value.contains(#"sample value "fast" is not a number"#), value)
        let pair = reason(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1]}]}}"#)
        XCTAssertTrue(pair.contains("expected [timestamp, \"value\"], got 1 elements"), pair)
        let number = reason(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#)
        XCTAssertTrue(number.contains("data.result[0].value"), number)
        let labels = reason(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"node":7},"value":[1,"2"]}]}}"#)
        XCTAssertTrue(labels.contains("data.result[0].metric"), labels)
        let histogram = reason(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}"#)
        XCTAssertTrue(histogram.contains("native histogram"), histogram)
    }

    func testOtherResultTypesAreNotVectors() {
        XCTAssertEqual(error(#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"3"]}}"#),
                       .notAVector(resultType: "scalar"))
        XCTAssertEqual(error(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]]}]}}"#),
                       .notAVector(resultType: "matrix"))
    }

    // MARK: the PromQL sent

    func testQueriesAndTheirURL() {
        let bare = AgentQueries(matchers: "")
        XCTAssertEqual(bare.selector(.of(.rttP99)), "ebpf_rtt_p99_milliseconds")
        XCTAssertEqual(bare.scrapeTime, "timestamp(edgenode_agent_up)")
        let job = AgentQueries(matchers: #" job="edgenode" "#)
        XCTAssertEqual(job.selector(.of(.cpu)), #"ebpf_cpu_utilization{job="edgenode"}"#)
        XCTAssertEqual(job.scrapeTime, #"timestamp(edgenode_agent_up{job="edgenode"})"#)

        // "+" and "&" must not reach Prometheus as a space and a parameter separator
        XCTAssertEqual(PrometheusClient.queryURL(base: "http://p:9090", promql: #"a + b{x=~"1|2&"}"#, time: 1_700_000_000.5),
                       "http://p:9090/api/v1/query?query=a%20%2B%20b%7Bx%3D~%221%7C2%26%22%7D&time=1700000000.500")
        XCTAssertEqual(PrometheusClient.queryURL(base: "http://p:9090/prom", promql: "up", time: nil),
                       "http://p:9090/prom/api/v1/query?query=up")
    }

    // MARK: joining

    static let t = 1_700_000_000.0

    /// Every gauge of the agent for `node`, as Prometheus returns them.
    static func gauges(_ nodes: [String: [AgentGauge: Double]], label: String = "node") -> [AgentGauge: [PrometheusSample]] {
        var out: [AgentGauge: [PrometheusSample]] = [:]
        for (node, values) in nodes.sorted(by: { $0.key < $1.key }) {
            for (gauge, v) in values {
                out[gauge, default: []].append(PrometheusSample(labels: [label: node, "job": "edgenode"], timestamp: t, value: v))
            }
        }
        return out
    }

    static func healthy(rtt: Double = 20) -> [AgentGauge: Double] {
        [.up: 1, .of(.rttP50): rtt / 2, .of(.rttP99): rtt, .of(.retransRate): 0.001, .of(.dropRate): 3,
         .of(.dropRateWeighted): 1.5, .of(.runqlatP95): 0.8, .of(.cpu): 0.25, .of(.rttSamples): 420, .of(.windowSeconds): 10]
    }

    static func scraped(_ node: String, at: Double, label: String = "node") -> PrometheusSample {
        PrometheusSample(labels: [label: node, "job": "edgenode"], timestamp: t, value: at)
    }

    func testJoinBuildsOneWindowPerNode() {
        let joined = TelemetryJoin.join(scrapeTimes: [Self.scraped("n2", at: Self.t - 0.4), Self.scraped("n1", at: Self.t - 0.7)],
                                        gauges: Self.gauges(["n1": Self.healthy(), "n2": Self.healthy(rtt: 80)]),
                                        nodeLabel: "node")
        XCTAssertEqual(joined.problems, [:])
        XCTAssertEqual(joined.agentsDown, [])
        XCTAssertEqual(joined.windows.map(\.node), ["n1", "n2"])
        XCTAssertEqual(joined.windows[0], TelemetryWindow(
            node: "n1", agentVersion: TelemetryJoin.agentVersion, generatedAt: Self.t - 0.7, windowSeconds: 10,
            rttP50Ms: 10, rttP99Ms: 20, rttSamples: 420, retransRate: 0.001, dropRate: 3, dropRateWeighted: 1.5,
            runqlatP95Ms: 0.8, cpuUtilization: 0.25))
        XCTAssertEqual(joined.windows[1].rttP99Ms, 80)
        XCTAssertEqual(joined.windows[1].generatedAt, Self.t - 0.4)
    }

    func testNaNIsAbsentAndInfinityRejectsTheNode() {
        var quiet = Self.healthy()
        quiet[.of(.rttP50)] = .nan
        quiet[.of(.rttP99)] = .nan
        quiet[.of(.retransRate)] = .nan
        var broken = Self.healthy()
        broken[.of(.rttP99)] = .infinity
        let joined = TelemetryJoin.join(scrapeTimes: [Self.scraped("quiet", at: Self.t), Self.scraped("broken", at: Self.t)],
                                        gauges: Self.gauges(["quiet": quiet, "broken": broken]), nodeLabel: "node")
        XCTAssertEqual(joined.windows.map(\.node), ["quiet"])
        XCTAssertNil(joined.windows[0].rttP99Ms, "NaN is \"no samples\", not 0")
        XCTAssertNil(joined.windows[0].retransRate)
        XCTAssertEqual(joined.windows[0].cpuUtilization, 0.25)
        XCTAssertEqual(joined.problems, ["invalid:broken": "node \"broken\" skipped: rtt_p99_ms: must be a finite number ≥ 0, got inf"])
    }

    func testAgentDownIsNotFed() {
        var down = Self.healthy()
        down[.up] = 0
        let joined = TelemetryJoin.join(scrapeTimes: [Self.scraped("a", at: Self.t), Self.scraped("b", at: Self.t)],
                                        gauges: Self.gauges(["a": Self.healthy(), "b": down]), nodeLabel: "node")
        XCTAssertEqual(joined.windows.map(\.node), ["a"])
        XCTAssertEqual(joined.agentsDown, ["b"])
        XCTAssertEqual(joined.problems, [:])
    }

    func testMissingSeriesAreAbsentAndNamed() {
        var partial = Self.healthy()
        partial[.of(.runqlatP95)] = nil
        partial[.of(.dropRateWeighted)] = nil
        var gauges = Self.gauges(["a": Self.healthy(), "p": partial])
        gauges[.of(.cpu)] = [] // an older agent without the gauge at all
        let joined = TelemetryJoin.join(scrapeTimes: [Self.scraped("a", at: Self.t), Self.scraped("p", at: Self.t)],
                                        gauges: gauges, nodeLabel: "node")
        XCTAssertEqual(joined.windows.map(\.node), ["a", "p"])
        XCTAssertNil(joined.windows[1].runqlatP95Ms)
        XCTAssertEqual(joined.windows[1].dropRateWeighted, 0)
        XCTAssertNil(joined.windows[0].cpuUtilization)
        XCTAssertEqual(Set(joined.problems.keys), ["missing:ebpf_cpu_utilization", "partial:p"])
        XCTAssertEqual(joined.problems["partial:p"],
                       "node p: no series of ebpf_drop_rate_weighted, ebpf_runqlat_p95_milliseconds; those signals are taken as absent")
        XCTAssertTrue(joined.problems["missing:ebpf_cpu_utilization"]!.hasPrefix("no series of ebpf_cpu_utilization"))
    }

    func testSeriesWithoutTheNodeLabelAreCountedAndIgnored() {
        // scraped without relabelling: only `instance` and `job`
        let unlabelled = PrometheusSample(labels: ["instance": "10.0.0.7:9464", "job": "edgenode"], timestamp: Self.t, value: Self.t)
        var gauges = Self.gauges(["a": Self.healthy()])
        gauges[.up]!.append(PrometheusSample(labels: ["instance": "10.0.0.7:9464"], timestamp: Self.t, value: 1))
        let joined = TelemetryJoin.join(scrapeTimes: [Self.scraped("a", at: Self.t), unlabelled], gauges: gauges, nodeLabel: "node")
        XCTAssertEqual(joined.windows.map(\.node), ["a"])
        XCTAssertEqual(Set(joined.problems.keys), ["unlabelled:timestamp(edgenode_agent_up)", "unlabelled:edgenode_agent_up"])
        XCTAssertTrue(joined.problems["unlabelled:edgenode_agent_up"]!.hasPrefix("1 series of edgenode_agent_up have no \"node\" label"))
    }

    func testAnotherNodeLabelAndNamesThatAreNotNodeNames() {
        let joined = TelemetryJoin.join(
            scrapeTimes: [Self.scraped("10.0.0.7:9464", at: Self.t, label: "instance"), Self.scraped("edge-7", at: Self.t, label: "instance")],
            gauges: Self.gauges(["10.0.0.7:9464": Self.healthy(), "edge-7": Self.healthy()], label: "instance"),
            nodeLabel: "instance")
        XCTAssertEqual(joined.windows.map(\.node), ["edge-7"])
        XCTAssertEqual(joined.problems["invalid:10.0.0.7:9464"],
                       "node \"10.0.0.7:9464\" skipped: node: \"10.0.0.7:9464\" has characters outside [A-Za-z0-9._-]")
    }

    func testTwoSeriesForOneNodeSkipTheNode() {
        var gauges = Self.gauges(["a": Self.healthy(), "b": Self.healthy()])
        gauges[.of(.rttP99)]!.append(PrometheusSample(labels: ["node": "a", "job": "other"], timestamp: Self.t, value: 99))
        let joined = TelemetryJoin.join(scrapeTimes: [Self.scraped("a", at: Self.t), Self.scraped("b", at: Self.t)],
                                        gauges: gauges, nodeLabel: "node")
        XCTAssertEqual(joined.windows.map(\.node), ["b"])
        XCTAssertTrue(joined.problems["duplicate:a"]!.contains("more than one series carries node=\"a\""), "\(joined.problems)")
    }
}
