// [source] of controller.toml: push by default, Prometheus with a URL, every bad value named by key.
@testable import EdgeConfig
import XCTest

final class ControllerSourceConfigTests: XCTestCase {
    static let file = "/etc/edgenode/controller.toml"

    private func parse(_ text: String) throws -> ControllerConfig {
        try ControllerConfig.parse(text: text, file: Self.file)
    }

    /// The error `text` produces, rendered.
    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        rejection(text, by: parse, file: file, line: line)
    }

    func testAbsentSectionMeansPush() throws {
        XCTAssertEqual(try parse("").source, .push)
        XCTAssertEqual(try parse("[source]\n").source, .push)
        let s = ControllerConfig.Source.push
        XCTAssertEqual(s.kind, .push)
        XCTAssertNil(s.prometheusURL)
        XCTAssertEqual(s.queryIntervalSeconds, 5)
        XCTAssertEqual(s.timeoutSeconds, 2)
        XCTAssertEqual(s.nodeLabel, "node")
        XCTAssertEqual(s.matchers, "")
    }

    func testPrometheusSourceReadsEveryKeyAndRoundTrips() throws {
        let c = try parse("""
            [source]
            kind = "prometheus"
            prometheus_url = "https://prom.example:9090/prometheus"
            query_interval = "2s"
            timeout = "500ms"
            node_label = "kubernetes_node"
            matchers = 'job="edgenode", env=~"prod|edge"'
            bearer_token_file = "/etc/edgenode/prometheus-token"
            ca_file = "/etc/edgenode/prometheus-ca.pem"
            """)
        XCTAssertEqual(c.source, ControllerConfig.Source(
            kind: .prometheus, prometheusURL: "https://prom.example:9090/prometheus", queryIntervalSeconds: 2,
            timeoutSeconds: 0.5, nodeLabel: "kubernetes_node", matchers: #"job="edgenode", env=~"prod|edge""#,
            bearerTokenFile: "/etc/edgenode/prometheus-token", caFile: "/etc/edgenode/prometheus-ca.pem"))
        XCTAssertEqual(try parse(c.tomlText), c, c.tomlText)
        XCTAssertTrue(ControllerConfig.defaults.tomlText.contains("[source]\nkind = \"push\""), ControllerConfig.defaults.tomlText)
    }

    func testPrometheusNeedsAURLAndPushRefusesOne() {
        XCTAssertEqual(error("[source]\nkind = \"prometheus\""),
                       "\(Self.file): source.prometheus_url: required when source.kind is \"prometheus\"; "
                       + "expected a URL such as \"http://prometheus:9090\"")
        XCTAssertTrue(error("[source]\nprometheus_url = \"http://p:9090\"").contains("source.prometheus_url: is set but source.kind is \"push\""))
        XCTAssertTrue(error("[source]\nkind = \"pull\"").contains("source.kind: expected \"push\" or \"prometheus\", got \"pull\""))
    }

    func testBadURLs() {
        for url in ["prom:9090", "ftp://p:21", "http://", "http://p:9090/?x=1", "http://p:9090/#top"] {
            let e = error("[source]\nkind = \"prometheus\"\nprometheus_url = \"\(url)\"")
            XCTAssertTrue(e.contains("source.prometheus_url: expected an http:// or https:// URL"), "\(url): \(e)")
        }
    }

    func testIntervalsAreBoundedAndMustFitStaleAfter() {
        let base = "[source]\nkind = \"prometheus\"\nprometheus_url = \"http://p:9090\"\n"
        XCTAssertTrue(error(base + "timeout = \"6s\"").contains("source.timeout: must not exceed source.query_interval (5s)"))
        XCTAssertTrue(error(base + "query_interval = \"100ms\"").contains("source.query_interval: must be between"))
        XCTAssertTrue(error(base + "query_interval = \"soon\"").contains("source.query_interval: expected a duration"))
        XCTAssertTrue(error(base + "query_interval = \"20s\"\ntimeout = \"2s\"")
            .contains("source.query_interval: must be shorter than registry.stale_after (15s)"))
        // a push controller does not poll, so its interval need not fit
        XCTAssertNoThrow(try parse("[source]\nquery_interval = \"20s\""))
        XCTAssertNoThrow(try parse(base + "query_interval = \"20s\"\n[registry]\nstale_after = \"1m\""))
    }

    func testNodeLabelMustBeALabelName() {
        let base = "[source]\nkind = \"prometheus\"\nprometheus_url = \"http://p:9090\"\n"
        XCTAssertTrue(error(base + "node_label = \"node-name\"").contains("source.node_label: expected a Prometheus label name"))
        XCTAssertTrue(error(base + "node_label = \"\"").contains("source.node_label: expected a Prometheus label name"))
        XCTAssertTrue(error(base + "node_label = \"__address__\"").contains("reserved label"))
        XCTAssertTrue(error(base + "node_label = 3").contains("source.node_label: expected a string, got integer 3"))
    }

    func testMatchers() {
        for good in ["", "job=\"edgenode\"", "job=\"a\",env!=\"b\"", " job =~ 'edge.*' , ", #"x="a\"b""#] {
            XCTAssertNil(PromQLText.matchersProblem(good), good)
        }
        let cases = [
            "{job=\"x\"}": "no label name",
            "job": "expected =, !=, =~ or !~ after \"job\"",
            "job=edgenode": "must be quoted",
            "job=\"edgenode": "no closing quote",
            "job=\"a\" env=\"b\"": "expected a comma",
        ]
        for (text, reason) in cases {
            let e = error("[source]\nmatchers = '\(text)'")
            XCTAssertTrue(e.contains("source.matchers: expected label matchers") && e.contains(reason), "\(text): \(e)")
        }
    }

    func testUnknownKeyAndRelativePaths() {
        XCTAssertTrue(error("[source]\nurl = \"http://p\"").contains("source.url: unknown key (known keys in [source]: kind, prometheus_url"))
        XCTAssertTrue(error("[source]\nca_file = \"ca.pem\"").contains("source.ca_file: expected an absolute path"))
        XCTAssertTrue(error("[source]\nbearer_token_file = \"t\"").contains("source.bearer_token_file: expected an absolute path"))
    }
}
