@testable import EdgeConfig
@testable import EdgeCore
@testable import EdgeTelemetry
import XCTest

final class ControllerConfigTests: XCTestCase {
    static let file = "/etc/edgenode/controller.toml"

    private func parse(_ text: String) throws -> ControllerConfig {
        try ControllerConfig.parse(text: text, file: Self.file)
    }

    /// The error `text` produces, rendered.
    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        rejection(text, by: parse, file: file, line: line)
    }

    func testEmptyFileGivesTheDefaults() throws {
        XCTAssertEqual(try parse(""), ControllerConfig.defaults)
    }

    func testDefaultValues() {
        let d = ControllerConfig.defaults
        XCTAssertEqual(d.server.listen.description, "127.0.0.1:8477")
        XCTAssertEqual(d.server.tokenFile, "/etc/edgenode/token")
        XCTAssertNil(d.server.tlsCert)
        XCTAssertNil(d.server.tlsKey)
        XCTAssertEqual(d.rpc, RPCConfig(socket: "/run/edge-controller/controller.sock", group: "edgenode",
                                        maxFrameBytes: 1_048_576, maxClients: 1024))
        XCTAssertEqual(d.score.weights, [.rttP99: 0.30, .retrans: 0.20, .dropWeighted: 0.20, .runqlatP95: 0.15, .cpu: 0.15])
        XCTAssertEqual(d.score.weights.values.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(d.score.normalisation, .fixed)
        XCTAssertEqual(d.score.minmaxFloor, [.rttP99: 1, .retrans: 0.005, .dropWeighted: 1, .runqlatP95: 1, .cpu: 0.1])
        XCTAssertEqual(d.score.bounds[.rttP99], SignalBounds(lo: 0, hi: 200))
        XCTAssertEqual(d.score.bounds[.retrans], SignalBounds(lo: 0, hi: 0.05))
        XCTAssertEqual(d.score.bounds[.dropWeighted], SignalBounds(lo: 0, hi: 100))
        XCTAssertEqual(d.score.bounds[.runqlatP95], SignalBounds(lo: 0, hi: 20))
        XCTAssertEqual(d.score.bounds[.cpu], SignalBounds(lo: 0, hi: 1))
        XCTAssertEqual(d.score.smoothing, 0.3)
        XCTAssertEqual(d.score.recoverySmoothing, 0.05)
        XCTAssertEqual(d.score.hysteresis, 0.05)
        XCTAssertEqual(d.score.outlierRatio, 4)
        XCTAssertEqual(d.score.outlierMinGapMs, 5)
        XCTAssertEqual(d.registry.staleAfterSeconds, 15)
        XCTAssertEqual(d.registry.stalePolicy, .filter)
        XCTAssertEqual(d.registry.maxNodes, 20000)
        XCTAssertEqual(d.filter, ControllerConfig.Filter())
    }

    static let fullFile = """
        [server]
        listen = "127.0.0.1:9477"
        token_file = ""
        tls_cert = "/etc/edgenode/tls.crt"
        tls_key = "/etc/edgenode/tls.key"

        [rpc]
        socket = "/run/ctl.sock"
        group = "adm"
        max_frame_bytes = 4096
        max_clients = 2

        [score]
        normalisation = "minmax"
        smoothing = 1
        recovery_smoothing = 0.5
        hysteresis = 0
        outlier_ratio = 0
        outlier_min_gap = "2ms"

        [score.weights]
        rtt_p99 = 1
        retrans = 0
        drop_weighted = 0.5
        runqlat_p95 = 0.25
        cpu = 0.25

        [score.bounds]
        rtt_p99 = [1, 50.5]
        retrans = [0, 0.1]
        drop_weighted = [0, 10]
        runqlat_p95 = [0.5, 5]
        cpu = [0.1, 0.9]

        [score.minmax_floor]
        rtt_p99 = 2.5
        retrans = 0
        drop_weighted = 3
        runqlat_p95 = 0.5
        cpu = 0.05

        [registry]
        stale_after = "30s"
        stale_policy = "lowest"
        max_nodes = 50

        [filter]
        max_rtt_p99_ms = 150
        max_retrans_rate = 0.02
        max_drop_rate = 500
        max_cpu = 0.95
        """

    func testFullFile() throws {
        let c = try parse(Self.fullFile)
        XCTAssertEqual(c.server, ControllerConfig.Server(listen: ListenAddress(host: "127.0.0.1", port: 9477), tokenFile: nil,
                                                         tlsCert: "/etc/edgenode/tls.crt", tlsKey: "/etc/edgenode/tls.key"))
        XCTAssertEqual(c.rpc, RPCConfig(socket: "/run/ctl.sock", group: "adm", maxFrameBytes: 4096, maxClients: 2))
        XCTAssertEqual(c.score.normalisation, .minmax)
        XCTAssertEqual(c.score.smoothing, 1)
        XCTAssertEqual(c.score.recoverySmoothing, 0.5)
        XCTAssertEqual(c.score.hysteresis, 0)
        XCTAssertEqual(c.score.outlierRatio, 0)
        XCTAssertEqual(c.score.outlierMinGapMs, 2)
        XCTAssertEqual(c.score.weights, [.rttP99: 1, .retrans: 0, .dropWeighted: 0.5, .runqlatP95: 0.25, .cpu: 0.25])
        XCTAssertEqual(c.score.bounds, [.rttP99: SignalBounds(lo: 1, hi: 50.5), .retrans: SignalBounds(lo: 0, hi: 0.1),
                                        .dropWeighted: SignalBounds(lo: 0, hi: 10), .runqlatP95: SignalBounds(lo: 0.5, hi: 5),
                                        .cpu: SignalBounds(lo: 0.1, hi: 0.9)])
        XCTAssertEqual(c.score.minmaxFloor, [.rttP99: 2.5, .retrans: 0, .dropWeighted: 3, .runqlatP95: 0.5, .cpu: 0.05])
        XCTAssertEqual(c.registry, ControllerConfig.Registry(staleAfterSeconds: 30, stalePolicy: .lowest, maxNodes: 50,
                                                             stateFile: "/var/lib/edge-controller/registry.json"))
        XCTAssertEqual(c.filter, ControllerConfig.Filter(limits: [.rttP99: 150, .retransRate: 0.02, .dropRate: 500, .cpu: 0.95]))
    }

    func testRenderedTextParsesBackToTheSameConfig() throws {
        let full = try parse(Self.fullFile)
        XCTAssertEqual(try parse(full.tomlText), full)
        XCTAssertEqual(try parse(ControllerConfig.defaults.tomlText), ControllerConfig.defaults)
    }

    func testPartialTablesKeepTheOtherDefaults() throws {
        let c = try parse("[score.weights]\ncpu = 0.5\n[score.bounds]\nrtt_p99 = [0, 100]\n[score.minmax_floor]\ncpu = 0.2\n")
        var expected = ControllerConfig.defaults.score
        expected.weights[.cpu] = 0.5
        expected.bounds[.rttP99] = SignalBounds(lo: 0, hi: 100)
        expected.minmaxFloor[.cpu] = 0.2
        XCTAssertEqual(c.score, expected)
    }

    func testScoreErrors() {
        XCTAssertEqual(error("[score.weights]\nrtt_p99 = 0\nretrans = 0\ndrop_weighted = 0\nrunqlat_p95 = 0\ncpu = 0"),
                       "/etc/edgenode/controller.toml: score.weights: at least one weight must be above 0")
        XCTAssertEqual(error("[score.weights]\ncpu = -0.1"),
                       "/etc/edgenode/controller.toml: score.weights.cpu: must be ≥ 0, got -0.1")
        XCTAssertEqual(error("[score.weights]\nlatency = 1"),
                       "/etc/edgenode/controller.toml: score.weights.latency: unknown key (known keys in [score.weights]: "
                       + "rtt_p99, retrans, drop_weighted, runqlat_p95, cpu)")
        XCTAssertEqual(error("[score]\nweights = [1, 2]"),
                       "/etc/edgenode/controller.toml: score.weights: expected a table, got an array")
        XCTAssertEqual(error("[score.bounds]\ncpu = [1, 0]"),
                       "/etc/edgenode/controller.toml: score.bounds.cpu: expected [lo, hi] with two numbers, lo < hi, got [1.0, 0.0]")
        XCTAssertEqual(error("[score.bounds]\ncpu = [0, 1, 2]"),
                       "/etc/edgenode/controller.toml: score.bounds.cpu: expected [lo, hi] with two numbers, lo < hi, got 3 elements")
        XCTAssertEqual(error("[score.bounds]\ncpu = 1"),
                       "/etc/edgenode/controller.toml: score.bounds.cpu: expected [lo, hi] with two numbers, lo < hi, got integer 1")
        XCTAssertEqual(error("[score.bounds]\ncpu = [0, \"1\"]"),
                       #"/etc/edgenode/controller.toml: score.bounds.cpu: expected a number, got string "1""#)
        XCTAssertEqual(error("[score]\nnormalisation = \"zscore\""),
                       #"/etc/edgenode/controller.toml: score.normalisation: expected "fixed" or "minmax", got "zscore""#)
        XCTAssertEqual(error("[score]\nsmoothing = 0"),
                       "/etc/edgenode/controller.toml: score.smoothing: must be in (0, 1], got 0.0")
        XCTAssertEqual(error("[score]\nrecovery_smoothing = 1.5"),
                       "/etc/edgenode/controller.toml: score.recovery_smoothing: must be in (0, 1], got 1.5")
        XCTAssertEqual(error("[score.minmax_floor]\nrtt_p99 = -1"),
                       "/etc/edgenode/controller.toml: score.minmax_floor.rtt_p99: must be ≥ 0 (0 = the full range however narrow), got -1.0")
        XCTAssertEqual(error("[score.minmax_floor]\nlatency = 1"),
                       "/etc/edgenode/controller.toml: score.minmax_floor.latency: unknown key (known keys in [score.minmax_floor]: "
                       + "rtt_p99, retrans, drop_weighted, runqlat_p95, cpu)")
        XCTAssertEqual(error("[score]\nhysteresis = 1.5"),
                       "/etc/edgenode/controller.toml: score.hysteresis: must be in [0, 1], got 1.5")
        XCTAssertEqual(error("[score]\noutlier_ratio = 1.2"),
                       "/etc/edgenode/controller.toml: score.outlier_ratio: must be 0 (off) or in [1.5, 1000], got 1.2")
        XCTAssertEqual(error("[score]\noutlier_min_gap = \"2m\""),
                       #"/etc/edgenode/controller.toml: score.outlier_min_gap: must be between 0s and 1m, got "2m""#)
    }

    func testServerRegistryAndFilterErrors() {
        XCTAssertEqual(error("[server]\nlisten = \"\""),
                       #"/etc/edgenode/controller.toml: server.listen: must not be empty; expected host:port such as "127.0.0.1:8477""#)
        XCTAssertEqual(error("[server]\nlisten = \"127.0.0.1:99999\""),
                       #"/etc/edgenode/controller.toml: server.listen: expected host:port such as "127.0.0.1:9464" or "[::1]:9464"; port must be a number from 0 to 65535, got "99999", got "127.0.0.1:99999""#)
        XCTAssertEqual(error("[server]\ntls_cert = \"/etc/c.pem\""),
                       "/etc/edgenode/controller.toml: server.tls_key: must be set together with server.tls_cert")
        XCTAssertEqual(error("[server]\ntls_key = \"/etc/k.pem\""),
                       "/etc/edgenode/controller.toml: server.tls_cert: must be set together with server.tls_key")
        XCTAssertEqual(error("[registry]\nstale_after = \"500ms\""),
                       #"/etc/edgenode/controller.toml: registry.stale_after: must be between 1s and 1h, got "500ms""#)
        XCTAssertEqual(error("[registry]\nstale_policy = \"drop\""),
                       #"/etc/edgenode/controller.toml: registry.stale_policy: expected "filter" or "lowest", got "drop""#)
        XCTAssertEqual(error("[registry]\nmax_nodes = 0"),
                       "/etc/edgenode/controller.toml: registry.max_nodes: must be between 1 and 1000000, got 0")
        XCTAssertEqual(error("[filter]\nmax_cpu = 1.5"),
                       "/etc/edgenode/controller.toml: filter.max_cpu: must be in [0, 1.0] (0 = no limit), got 1.5")
        XCTAssertEqual(error("[filter]\nmax_rtt_p99_ms = -5"),
                       "/etc/edgenode/controller.toml: filter.max_rtt_p99_ms: must be ≥ 0 (0 = no limit), got -5.0")
        XCTAssertEqual(error("[filter]\nmax_drop_rate = \"10/s\""),
                       #"/etc/edgenode/controller.toml: filter.max_drop_rate: expected a number, got string "10/s""#)
        XCTAssertEqual(error("[agent]\nnode_name = \"x\""),
                       "/etc/edgenode/controller.toml: agent: unknown section (known sections: server, rpc, score, registry, filter, source, damping)")
        XCTAssertTrue(error("[score\n").hasPrefix("/etc/edgenode/controller.toml:1:"))
    }
}
