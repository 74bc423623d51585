@testable import EdgeRPC
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

/// Socket file handling, limits and shutdown, each with its own server.
final class RPCServerLifecycleTests: XCTestCase {
    private func mode(_ path: String) throws -> Int {
        try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Leaves a socket file nobody listens on, as a crashed daemon would.
    private func makeStaleSocket(at path: String) throws {
        try sh(["/usr/bin/python3", "-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path])
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
    }

    func testShutdownFinishesRunningRequestAndUnlinksSocket() async throws {
        let live = try LiveServer()
        try await live.start()
        let path = live.path
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try mode(path), 0o600, "no group configured: root only")

        let slowCall = Task.detached {
            try RPCClient(path: path).call("sleep", params: SleepParams(milliseconds: 300), as: Bool.self)
        }
        try await Task.sleep(for: .milliseconds(100))
        try await live.stop()
        let answered = try await slowCall.value
        XCTAssertTrue(answered, "a request running at shutdown is answered within the grace period")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "socket unlinked")
        XCTAssertThrowsError(try RPCClient(path: path).callRaw("echo")) { error in
            XCTAssertEqual(error as? RPCClientError, .notRunning(daemon: "edge-agent", path: path))
        }
        do {
            try await live.server.start()
            XCTFail("a stopped server must not start again")
        } catch {
            XCTAssertEqual(error as? RPCServerError, .alreadyShutDown)
        }
    }

    func testRunStartsTheServerAndCancellationStopsIt() async throws {
        let directory = try Fixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/nested/run/edge-controller.sock"  // parent directories are created
        let server = RPCServer(configuration: RPCServerConfiguration(socketPath: path, socketGroup: nil),
                               router: Fixture.router(), logger: Fixture.logger)
        let task = Task { try await server.run() }
        var answered = false
        for _ in 0..<100 where !answered {
            try await Task.sleep(for: .milliseconds(20))
            answered = (try? await Task.detached { try RPCClient(path: path).callRaw("echo", params: ["text": "up"]) }.value) == "up"
        }
        XCTAssertTrue(answered)
        XCTAssertEqual(try mode(directory + "/nested/run"), 0o755)
        task.cancel()
        try await task.value
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testSocketGroupAndMode() async throws {
        try requireRoot()
        // Any existing group other than root proves the chown; daemon (gid 1) is on every Debian.
        let groupName = "daemon"
        let gid = try XCTUnwrap(RPCSocketFile.groupID(named: groupName), "group \(groupName) missing")
        let withGroup = try LiveServer { $0.socketGroup = groupName }
        try await withGroup.start()
        let attributes = try FileManager.default.attributesOfItem(atPath: withGroup.path)
        XCTAssertEqual((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value, gid)
        XCTAssertEqual(try mode(withGroup.path), 0o660)
        try await withGroup.stop()

        let missingGroup = try LiveServer { $0.socketGroup = "edgenode-no-such-group" }
        try await missingGroup.start()
        XCTAssertEqual(try mode(missingGroup.path), 0o600, "unknown group: stays root-only")
        XCTAssertEqual(try missingGroup.client().callRaw("echo", params: ["text": "still serving"]), "still serving")
        try await missingGroup.stop()
    }

    func testStaleSocketIsReplacedButOtherFilesAndLiveServersAreNot() async throws {
        let live = try LiveServer()
        try makeStaleSocket(at: live.path)
        XCTAssertThrowsError(try RPCClient(path: live.path).callRaw("echo")) { error in
            XCTAssertEqual("\(error)", "edge-agent is not running (stale socket at \(live.path))")
        }
        try await live.start()
        XCTAssertEqual(try live.client().callRaw("echo", params: ["text": "fresh"]), "fresh")

        // A second server on the same path must not steal the socket of a live one.
        let rival = RPCServer(configuration: RPCServerConfiguration(socketPath: live.path, socketGroup: nil),
                              router: Fixture.router(), logger: Fixture.logger)
        do {
            try await rival.start()
            XCTFail("second server started on a live socket")
        } catch {
            XCTAssertEqual(error as? RPCServerError, .socketInUse(live.path))
        }
        XCTAssertEqual(try live.client().callRaw("echo", params: ["text": "still mine"]), "still mine")
        try await live.stop()

        let directory = try Fixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let regular = directory + "/edge-agent.sock"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: regular))
        let blocked = RPCServer(configuration: RPCServerConfiguration(socketPath: regular, socketGroup: nil),
                                router: Fixture.router(), logger: Fixture.logger)
        do {
            try await blocked.start()
            XCTFail("started over a regular file")
        } catch {
            XCTAssertEqual(error as? RPCServerError, .pathNotASocket(regular))
            XCTAssertTrue("\(error)".contains("not a socket"))
        }
        XCTAssertEqual(try String(contentsOfFile: regular, encoding: .utf8), "keep me")
    }

    func testClientsBeyondTheLimitAreTurnedAwayWithAnError() async throws {
        let live = try LiveServer { $0.maxClients = 2 }
        try await live.start()
        let path = live.path
        let outcome = try await Task.detached { () -> (String, String?) in
            let first = RPCClient(path: path), second = RPCClient(path: path)
            _ = try first.callRaw("echo", params: ["text": "1"])
            _ = try second.callRaw("echo", params: ["text": "2"])
            let message = assertServerError(.unavailable) { try RPCClient(path: path).callRaw("echo", params: ["text": "3"]) }
            first.close()
            // Once a slot frees up, a new client gets in.
            var admitted: String?
            for _ in 0..<50 where admitted == nil {
                admitted = (try? RPCClient(path: path).callRaw("echo", params: ["text": "4"]))?.stringValue
                if admitted == nil { usleep(20_000) }
            }
            return (message ?? "", admitted)
        }.value
        XCTAssertEqual(outcome.0, "server busy: too many clients connected (limit 2, rpc.max_clients)")
        XCTAssertEqual(outcome.1, "4")
        try await live.stop()
    }

    func testIdleHalfOpenClientIsDisconnected() async throws {
        let live = try LiveServer { $0.idleTimeout = .milliseconds(300) }
        try await live.start()
        let path = live.path
        let result = try await Task.detached { () -> RPCClientError? in
            let stalled = RPCClient(path: path, timeout: .seconds(3))
            try stalled.sendRaw(Data(#"{"jsonrpc":"2.0","id":1"#.utf8))
            do {
                _ = try stalled.receiveFrame()
                return nil
            } catch {
                return error as? RPCClientError
            }
        }.value
        XCTAssertEqual(result, .connectionClosed(daemon: "edge-agent", method: "(raw)"))
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(live.server.connectedClientCount, 0)
        try await live.stop()
    }
}
