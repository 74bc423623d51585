import EdgeController
import EdgeCore
import XCTest

final class BearerTokenTests: XCTestCase {
    func testCheckAuthorizationHeader() throws {
        let t = try BearerToken("s3cret-token-0123456789")
        XCTAssertNil(t.check(authorization: "Bearer s3cret-token-0123456789"))
        XCTAssertNil(t.check(authorization: "bearer s3cret-token-0123456789"))
        XCTAssertEqual(t.check(authorization: nil), "missing Authorization header")
        XCTAssertEqual(t.check(authorization: "Basic dXNlcjpwYXNz"), "Authorization header is not a Bearer token")
        XCTAssertEqual(t.check(authorization: "Bearer s3cret-token-012345678"), "wrong bearer token") // prefix
        XCTAssertEqual(t.check(authorization: "Bearer s3cret-token-01234567890"), "wrong bearer token") // longer
        XCTAssertEqual(t.check(authorization: "Bearer "), "Authorization header is not a Bearer token")
        XCTAssertFalse("\(t)".contains("s3cret"), "description must not reveal the token")
    }

    func testTokenFile() throws {
        let path = NSTemporaryDirectory() + "edgenode-token-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "abc123\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertTrue(try BearerToken(contentsOfFile: path).matches(Array("abc123".utf8)))
        try "  \n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BearerToken(contentsOfFile: path)) { XCTAssertTrue("\($0)".contains("file is empty")) }
        XCTAssertThrowsError(try BearerToken(contentsOfFile: path + ".missing")) { XCTAssertTrue("\($0)".contains("cannot read")) }
    }
}

final class ReportIngestTests: XCTestCase {
    func makeIngest() throws -> ReportIngest {
        ReportIngest(token: try BearerToken("tok"), registry: NodeRegistry(score: Fixtures.scoreConfig(),
                     registry: Fixtures.registryConfig(maxNodes: 1)), maxBytes: 4096)
    }

    func testAcceptsValidReport() throws {
        let ingest = try makeIngest()
        XCTAssertNil(ingest.authorize("Bearer tok"))
        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("edge-a"))), .accepted(node: "edge-a", reportCount: 1))
        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("edge-a"))), .accepted(node: "edge-a", reportCount: 2))
    }

    func testRejections() throws {
        let ingest = try makeIngest()
        XCTAssertEqual(ingest.authorize("Bearer nope"), .unauthorized(reason: "wrong bearer token"))
        XCTAssertEqual(ingest.accept(body: Data(repeating: 0x20, count: 5000)), .tooLarge(limit: 4096))
        XCTAssertEqual(ingest.accept(body: Data("{".utf8)).httpStatus, 400)

        var missing = try JSONDecoder().decode([String: JSONValue].self, from: Fixtures.json(Fixtures.window("a")))
        missing.removeValue(forKey: "rtt_samples")
        XCTAssertEqual(ingest.accept(body: try JSONEncoder().encode(missing)), .malformed(reason: "missing field \"rtt_samples\""))

        var wrongType = try JSONDecoder().decode([String: JSONValue].self, from: Fixtures.json(Fixtures.window("a")))
        wrongType["peers"] = [["address": "10.0.0.1", "samples": "many"]]
        guard case let .malformed(reason) = ingest.accept(body: try JSONEncoder().encode(wrongType)) else {
            return XCTFail("expected malformed")
        }
        XCTAssertTrue(reason.hasPrefix("peers[0].samples: expected"), reason)

        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("bad name!"))),
                       .malformed(reason: "node: \"bad name!\" has characters outside [A-Za-z0-9._-]"))
        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("a", cpu: 1.5))),
                       .malformed(reason: "cpu_utilization: must be in [0, 1], got 1.5"))
        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("a", rtt: -3))),
                       .malformed(reason: "rtt_p50_ms: must be a finite number ≥ 0, got -1.5"))
        // max_nodes = 1 and edge-a is fresh: a second node is turned away.
        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("edge-a"))).httpStatus, 200)
        XCTAssertEqual(ingest.accept(body: Fixtures.json(Fixtures.window("edge-b"))).httpStatus, 503)
    }
}
