// The real HTTP server on 127.0.0.1 with an ephemeral port, driven by a real HTTP client and raw sockets.
import AsyncHTTPClient
import EdgeAPI
import EdgeConfig
import EdgeController
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import XCTest

/// A controller HTTP server running for one test.
final class RunningServer: @unchecked Sendable {
    let core: ControllerCore
    let port: Int
    let scheme: String
    private let group: ServiceGroup
    private let task: Task<Void, Error>

    var base: String { "\(scheme)://127.0.0.1:\(port)" }

    init(config: ControllerConfig, limits: HTTPLimits) async throws {
        core = try ControllerCore(config: config, limits: limits)
        var logger = Logger(label: "edge-controller-test")
        logger.logLevel = .critical
        let (stream, cont) = AsyncStream.makeStream(of: Int.self)
        let app = try ControllerHTTPServer.make(core: core, logger: logger) { port in
            cont.yield(port)
            cont.finish()
        }
        scheme = config.server.tlsCert == nil ? "http" : "https"
        group = ServiceGroup(configuration: .init(services: [.init(service: app)], gracefulShutdownSignals: [], logger: logger))
        let g = group
        task = Task { try await g.run() }
        var it = stream.makeAsyncIterator()
        guard let p = await it.next() else { throw XCTSkip("server did not start") }
        port = p
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

final class HTTPServerTests: XCTestCase {
    static let token = "test-token-5f2b9c"
    var tokenPath = ""
    var server: RunningServer!
    var client: HTTPClient!

    override func setUp() async throws {
        tokenPath = NSTemporaryDirectory() + "edgenode-token-\(UUID().uuidString)"
        try (Self.token + "\n").write(toFile: tokenPath, atomically: true, encoding: .utf8)
        server = try await RunningServer(config: config(), limits: HTTPLimits(maxReportBytes: 1 << 20, maxExtenderBytes: 8 << 20,
                                                                              idleTimeout: .seconds(1)))
        client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    override func tearDown() async throws {
        try? await client?.shutdown()
        await server?.stop()
        try? FileManager.default.removeItem(atPath: tokenPath)
    }

    func config() -> ControllerConfig {
        var c = ControllerConfig.defaults
        c.server.listen = ListenAddress(host: "127.0.0.1", port: 0)
        c.server.tokenFile = tokenPath
        c.score = Fixtures.scoreConfig()
        return c
    }

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: String
    }

    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, token: String? = HTTPServerTests.token,
              to base: String? = nil, using client: HTTPClient? = nil) async throws -> Reply {
        var req = HTTPClientRequest(url: (base ?? server.base) + path)
        req.method = method
        if let token { req.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            req.headers.add(name: "Content-Type", value: "application/json")
            req.body = .bytes(ByteBuffer(bytes: body))
        }
        let res = try await (client ?? self.client).execute(req, timeout: .seconds(10))
        let bytes = try await res.body.collect(upTo: 16 << 20)
        return Reply(status: Int(res.status.code), headers: res.headers, body: String(buffer: bytes))
    }

    func report(_ w: TelemetryWindow) async throws -> Reply {
        try await send(.POST, "/v1/reports", body: Fixtures.json(w))
    }

    func testIngestAuthentication() async throws {
        let ok = try await report(Fixtures.window("edge-a"))
        XCTAssertEqual(ok.status, 200, ok.body)
        XCTAssertTrue(ok.body.contains("\"node\":\"edge-a\""), ok.body)

        let none = try await send(.POST, "/v1/reports", body: Fixtures.json(Fixtures.window("edge-a")), token: nil)
        XCTAssertEqual(none.status, 401)
        XCTAssertEqual(none.headers.first(name: "WWW-Authenticate"), "Bearer realm=\"edgenode\"")
        XCTAssertTrue(none.body.contains("missing Authorization header"), none.body)

        let wrong = try await send(.POST, "/v1/reports", body: Fixtures.json(Fixtures.window("edge-a")), token: "guess")
        XCTAssertEqual(wrong.status, 401)
        XCTAssertTrue(wrong.body.contains("wrong bearer token"), wrong.body)
        XCTAssertEqual(server.core.registry.snapshot(node: "edge-a")?.reportCount, 1, "rejected reports are not stored")
    }

    func testMalformedReportIs400WithReason() async throws {
        let r = try await send(.POST, "/v1/reports", body: Data(#"{"node":"edge-a"}"#.utf8))
        XCTAssertEqual(r.status, 400)
        XCTAssertTrue(r.body.contains("malformed report: missing field"), r.body)
        let notJSON = try await send(.POST, "/v1/reports", body: Data("hello".utf8))
        XCTAssertEqual(notJSON.status, 400)
    }

    func testOversizedBodyIs413AndServerKeepsServing() async throws {
        let big = Data(repeating: UInt8(ascii: " "), count: 10 << 20)
        let r = try await send(.POST, "/v1/reports", body: big)
        XCTAssertEqual(r.status, 413)
        XCTAssertTrue(r.body.contains("larger than 1048576 bytes"), r.body)
        let health = try await send(.GET, "/healthz")
        XCTAssertEqual(health.status, 200)
        let ok = try await report(Fixtures.window("edge-a"))
        XCTAssertEqual(ok.status, 200)
    }

    func testStalledClientDoesNotBlockOthersAndIsDisconnected() async throws {
        // Headers of a 5000-byte report, a few bytes of body, then nothing.
        let slow = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        let head = "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(Self.token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"node\":"
        try await slow.writeAndFlush(ByteBuffer(string: head)).get()
        // A second one stalls in the middle of its headers.
        let slower = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        try await slower.writeAndFlush(ByteBuffer(string: "POST /filter HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")).get()

        let clock = ContinuousClock()
        for i in 0..<5 {
            let elapsed = try await clock.measure {
                let r = try await report(Fixtures.window("edge-\(i)"))
                XCTAssertEqual(r.status, 200)
            }
            XCTAssertLessThan(elapsed, .milliseconds(500), "a stalled client must not delay others")
        }
        // The idle timeout (1 s here) closes both stalled connections.
        let closed = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await slow.closeFuture.get()
                try await slower.closeFuture.get()
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return false
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        if !closed {
            try? await slow.close()
            try? await slower.close()
        }
        XCTAssertTrue(closed, "stalled connections must be closed by the idle timeout")
    }

    func testPrioritizeRanksDegradedNodeLastAndMetrics() async throws {
        let ready0 = try await send(.GET, "/readyz")
        // Nothing was saved before this start, so there is no fleet to wait for: ready at once
        // (nodes without telemetry stay feasible; issue 16). The warm-up rule: ExtenderFailOpenTests.
        XCTAssertEqual(ready0.status, 200, "a first start with no saved registry is ready at once")
        _ = try await report(Fixtures.window("edge-a", rtt: 12, cpu: 0.2))
        _ = try await report(Fixtures.window("edge-b", rtt: 25, cpu: 0.35))
        _ = try await report(Fixtures.window("edge-c", rtt: 180, retrans: 0.04, dropW: 80, runqlat: 15, cpu: 0.9)) // degraded
        let ready = try await send(.GET, "/readyz")
        XCTAssertEqual(ready.status, 200)

        let r = try await send(.POST, "/prioritize", body: Fixtures.argsWithNames(["edge-c", "edge-a", "edge-b", "edge-unknown"]),
                               token: nil)
        XCTAssertEqual(r.status, 200, r.body)
        let list = try JSONDecoder().decode([HostPriority].self, from: Data(r.body.utf8))
        XCTAssertEqual(list.map(\.host), ["edge-c", "edge-a", "edge-b", "edge-unknown"], "one entry per candidate, in order")
        let score = Dictionary(uniqueKeysWithValues: list.map { ($0.host, $0.score) })
        XCTAssertLessThan(score["edge-c"]!, score["edge-b"]!)
        XCTAssertLessThan(score["edge-c"]!, score["edge-a"]!)
        XCTAssertGreaterThanOrEqual(score["edge-a"]!, score["edge-b"]!)
        XCTAssertEqual(score["edge-unknown"], 0)

        let f = try await send(.POST, "/filter", body: Fixtures.argsWithNodes([("edge-a", "192.168.10.11"), ("edge-z", "192.168.10.26")]),
                               token: nil)
        XCTAssertEqual(f.status, 200, f.body)
        let filtered = try JSONDecoder().decode(ExtenderFilterResult.self, from: Data(f.body.utf8))
        // edge-z never reported: missing telemetry is not sickness, it stays feasible (issue 16)
        XCTAssertEqual(filtered.nodes?["items"]?.arrayValue?.count, 2)
        XCTAssertEqual(filtered.failedAndUnresolvableNodes.keys.sorted(), [])

        let metrics = try await send(.GET, "/metrics", token: nil)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.body.contains("scheduler_framework_score{plugin=\"edgenode\",node=\"edge-a\"} \(score["edge-a"]!)"),
                      metrics.body)
        XCTAssertTrue(metrics.body.contains("edgenode_node_score_raw{node=\"edge-c\"}"), metrics.body)
        XCTAssertTrue(metrics.body.contains("edgenode_report_age_seconds{node=\"edge-b\"}"), metrics.body)
        XCTAssertTrue(metrics.body.contains("edgenode_extender_requests_total{verb=\"prioritize\",code=\"200\"} 1"), metrics.body)
        XCTAssertTrue(metrics.body.contains("edgenode_extender_request_duration_seconds_count{verb=\"filter\"} 1"), metrics.body)
        XCTAssertTrue(metrics.body.contains("edgenode_reports_total{result=\"accepted\"} 3"), metrics.body)
    }

    func testExtenderBadBodyIsClientError() async throws {
        let r = try await send(.POST, "/filter", body: Data("[]".utf8), token: nil)
        XCTAssertEqual(r.status, 400)
        let result = try JSONDecoder().decode(ExtenderFilterResult.self, from: Data(r.body.utf8))
        XCTAssertTrue(result.error.hasPrefix("edgenode: invalid ExtenderArgs"), result.error)
    }

    func testTLS() async throws {
        let dir = NSTemporaryDirectory() + "edgenode-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gen = try sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                          "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem", "-days", "1", "-subj", "/CN=127.0.0.1"],
                         check: false)
        guard gen.status == 0 else { throw XCTSkip("openssl could not make a test certificate: \(gen.stderr)") }
        var c = config()
        c.server.tlsCert = dir + "/cert.pem"
        c.server.tlsKey = dir + "/key.pem"
        let tlsServer = try await RunningServer(config: c, limits: .defaults)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(dir + "/cert.pem")
        tls.certificateVerification = .noHostnameVerification
        let tlsClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let r = try await send(.POST, "/v1/reports", body: Fixtures.json(Fixtures.window("edge-a")), to: tlsServer.base,
                                   using: tlsClient)
            XCTAssertEqual(r.status, 200, r.body)
        } catch {
            XCTFail("HTTPS report failed: \(error)")
        }
        try await tlsClient.shutdown()
        await tlsServer.stop()

        c.server.tlsKey = dir + "/missing.pem"
        XCTAssertThrowsError(try ControllerHTTPServer.make(core: ControllerCore(config: c), logger: Logger(label: "t"))) {
            XCTAssertTrue("\($0)".contains("server.tls_key"), "\($0)")
        }
    }
}
