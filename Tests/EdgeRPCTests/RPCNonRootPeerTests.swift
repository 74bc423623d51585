import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

/// Peers that are not root, made with setpriv; the client is a small Python script because
/// the test process itself must stay root to run the server.
final class RPCNonRootPeerTests: XCTestCase {
    private var live: LiveServer!

    /// Sends a read (sum) and a write (state.set) request, prints both answers, one per line;
    /// prints CONNECT-ERROR <errno> when the socket refuses the connection.
    private let script = """
        import json, socket, sys
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(sys.argv[1])
        except OSError as e:
            print("CONNECT-ERROR", e.errno)
            sys.exit(0)
        s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"sum","params":{"values":[40,2]}}\\n'
                  b'{"jsonrpc":"2.0","id":2,"method":"state.set"}\\n')
        f = s.makefile("rb")
        for _ in range(2):
            print(f.readline().decode().strip())
        """

    override func setUp() async throws {
        try requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            try unmet("needs /usr/bin/setpriv and /usr/bin/python3")
        }
        live = try LiveServer()
        try await live.start()
        try script.write(toFile: live.directory + "/client.py", atomically: true, encoding: .utf8)
    }

    override func tearDown() async throws {
        try await live?.stop()
    }

    private func runAsNobody(extra: [String] = []) throws -> [String] {
        let result = try sh(["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + extra
            + ["/usr/bin/python3", live.directory + "/client.py", live.path])
        return result.stdout.split(separator: "\n").map(String.init)
    }

    private func responses(_ lines: [String]) throws -> [JSONValue] {
        try lines.map { try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    func testUnprivilegedPeerMayReadButNotWrite() throws {
        XCTAssertEqual(chmod(live.path, 0o666), 0)  // stands in for "member of the socket's group"
        let answers = try responses(try runAsNobody())
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers[0]["result"], ["caller_uid": 65534, "total": 42])
        XCTAssertEqual(answers[1]["error"]?["code"], -32001)
        XCTAssertEqual(answers[1]["error"]?["message"],
                       "permission denied: 'state.set' changes state and needs root or CAP_NET_ADMIN")
    }

    func testUnprivilegedPeerWithCapNetAdminMayWrite() throws {
        XCTAssertEqual(chmod(live.path, 0o666), 0)
        let answers = try responses(try runAsNobody(extra: ["--inh-caps=+net_admin", "--ambient-caps=+net_admin"]))
        XCTAssertEqual(answers.count, 2)
        XCTAssertEqual(answers[1]["result"], ["changed_by_uid": 65534])
    }

    func testRootOnlySocketRefusesOthers() throws {
        // The server's own mode (no group configured): 0600.
        XCTAssertEqual(try runAsNobody(), ["CONNECT-ERROR \(EACCES)"])
    }
}
