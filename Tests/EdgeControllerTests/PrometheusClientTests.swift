// The Prometheus client's start-up checks (token and CA files name their key) and a poll against a
// port where nothing listens: a failed poll is a result, never a throw, and ingests nothing.
import EdgeConfig
import EdgeController
import Foundation
import Logging
import NIOCore
import NIOPosix
import XCTest

final class PrometheusClientTests: XCTestCase {
    var dir: URL!

    override func setUp() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-promclient-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func settings(url: String = "http://127.0.0.1:9", token: String? = nil, ca: String? = nil) -> ControllerConfig.Source {
        ControllerConfig.Source(kind: .prometheus, prometheusURL: url, queryIntervalSeconds: 1, timeoutSeconds: 0.5,
                                nodeLabel: "node", matchers: "", bearerTokenFile: token, caFile: ca)
    }

    func startupError(_ s: ControllerConfig.Source, file: StaticString = #filePath, line: UInt = #line) async -> String {
        do {
            let client = try PrometheusClient(settings: s)
            await client.shutdown()
            XCTFail("no error", file: file, line: line)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testTokenAndCAFilesAreCheckedAtStart() async throws {
        let missing = dir.appendingPathComponent("nope").path
        let e1 = await startupError(settings(token: missing))
        XCTAssertTrue(e1.hasPrefix("source.bearer_token_file \(missing): cannot read the token"), e1)
        let empty = dir.appendingPathComponent("empty").path
        try "\n".write(toFile: empty, atomically: true, encoding: .utf8)
        let e2 = await startupError(settings(token: empty))
        XCTAssertEqual(e2, "source.bearer_token_file \(empty) is empty")
        let notPEM = dir.appendingPathComponent("ca.pem").path
        try "not a certificate".write(toFile: notPEM, atomically: true, encoding: .utf8)
        let e3 = await startupError(settings(ca: notPEM))
        XCTAssertTrue(e3.hasPrefix("source.ca_file \(notPEM): cannot load CA certificates"), e3)
    }

    /// A loopback port that was just free: bound, read, closed.
    func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(channel.localAddress?.port)
        try await channel.close().get()
        return port
    }

    func testPollAgainstNothingFailsWithoutIngesting() async throws {
        let registry = NodeRegistry(score: ControllerConfig.defaults.score, registry: ControllerConfig.defaults.registry)
        let source = try PrometheusSource(settings: settings(url: "http://127.0.0.1:\(try await closedPort())"), registry: registry,
                                          logger: Logger(label: "test"))
        let started = ContinuousClock.now
        let poll = await source.pollOnce()
        await source.shutdown()
        guard case let .failed(error) = poll, case .transport = error else {
            return XCTFail("expected a transport failure, got \(poll)")
        }
        XCTAssertTrue(error.description.hasPrefix("cannot reach Prometheus: "), error.description)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(2), "bounded by source.timeout")
        XCTAssertEqual(registry.snapshots(), [])
    }
}
