@testable import EdgeRPC
import EdgeCore
import Foundation
import XCTest

final class RPCClientErrorTests: XCTestCase {
    func testMissingSocketSaysTheDaemonIsNotRunning() {
        let path = "/tmp/edgerpc-absent-\(getpid())/edge-agent.sock"
        XCTAssertThrowsError(try RPCClient(path: path).callRaw("status")) { error in
            XCTAssertEqual("\(error)", "edge-agent is not running: no socket at \(path)")
            XCTAssertEqual(error.localizedDescription, "edge-agent is not running: no socket at \(path)")
        }
        XCTAssertThrowsError(try RPCClient(path: "/tmp/x.sock", daemonName: "edge-controller").callRaw("status")) { error in
            XCTAssertEqual("\(error)", "edge-controller is not running: no socket at /tmp/x.sock")
        }
    }

    func testDaemonNameComesFromThePath() {
        XCTAssertEqual(RPCClient.daemonName(forSocketPath: "/run/edge-agent/edge-agent.sock"), "edge-agent")
        XCTAssertEqual(RPCClient.daemonName(forSocketPath: "/run/edge-controller/rpc.sock"), "edge-controller")
        XCTAssertEqual(RPCClient.daemonName(forSocketPath: "/tmp/other.sock"), "other")
    }

    func testErrnoMapping() {
        func map(_ operation: String, _ code: Int32) -> RPCClientError {
            RPCClient.clientError(for: UnixSocketError(operation: operation, code: code), path: "/run/edge-agent/a.sock",
                                  daemon: "edge-agent", group: "edgenode", method: "status", timeout: .seconds(5))
        }
        XCTAssertEqual("\(map("connect", EACCES))",
                       "permission denied on /run/edge-agent/a.sock: run as root or join group 'edgenode'")
        XCTAssertEqual(map("connect", EPERM), .permissionDenied(path: "/run/edge-agent/a.sock", group: "edgenode"))
        XCTAssertEqual("\(map("connect", ECONNREFUSED))", "edge-agent is not running (stale socket at /run/edge-agent/a.sock)")
        XCTAssertEqual(map("connect", ENOTDIR), .notRunning(daemon: "edge-agent", path: "/run/edge-agent/a.sock"))
        XCTAssertEqual("\(map("receive", ETIMEDOUT))", "edge-agent did not answer 'status' within 5 s")
        XCTAssertEqual(map("send", EPIPE), .connectionClosed(daemon: "edge-agent", method: "status"))
        XCTAssertEqual("\(map("receive", EIO))", "receive /run/edge-agent/a.sock failed: Input/output error")
    }

    func testOverlongPathIsRejectedClearly() {
        let path = "/tmp/" + String(repeating: "p", count: 120) + ".sock"
        XCTAssertThrowsError(try RPCClient(path: path, daemonName: "edge-agent").callRaw("status")) { error in
            XCTAssertEqual("\(error)", "cannot use socket path \(path): longer than 107 bytes")
        }
    }
}
