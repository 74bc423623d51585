// Access control on both local sockets, with real users (root creates them): the real
// edge-agent and edge-controller with `[rpc] group` set to a group made for the test. A user
// outside the group cannot connect at all (EACCES, from the socket's 0660 mode); a member can
// call read methods through edgectl, and is refused every write method with -32001 (checked
// with SO_PEERCRED by the server), while root may call them.
//
// Both daemons are tested here, in one target, so that the user/group fixture exists once.
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class AccessSocketTests: XCTestCase {
    var dir: URL!
    var users: AccessTestUsers?
    var ns: ScratchNetns?
    var daemons: [DaemonProcess] = []

    override func setUp() async throws {
        try requireRoot()
        try requireBTF()
        dir = try makeSharedTestDirectory("edgetest-access")
        users = try AccessTestUsers()
    }

    override func tearDown() async throws {
        for d in daemons { d.stop() }
        daemons = []
        ns = nil
        users?.remove()
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Starts both daemons in one namespace, their sockets owned by the test group.
    func startDaemons(group: String) throws -> (agent: String, controller: String) {
        let ns = try ScratchNetns(prefix: "edgeacc")
        self.ns = ns
        try "access-test-token-\(UUID().uuidString)".write(toFile: path("token"), atomically: true, encoding: .utf8)
        try """
        [server]
        listen = "127.0.0.1:8477"
        token_file = "\(path("token"))"
        [rpc]
        socket = "\(path("controller.sock"))"
        group = "\(group)"
        """.write(toFile: path("controller.toml"), atomically: true, encoding: .utf8)
        try """
        [agent]
        node_name = "access-node"
        [telemetry]
        interval = "500ms"
        [rpc]
        socket = "\(path("agent.sock"))"
        group = "\(group)"
        [metrics]
        listen = ""
        [controller]
        url = "http://127.0.0.1:8477"
        token_file = "\(path("token"))"
        push_interval = "500ms"
        timeout = "400ms"
        """.write(toFile: path("agent.toml"), atomically: true, encoding: .utf8)
        let controller = try DaemonProcess(try Products.path("edge-controller"), ["--config", path("controller.toml")], netns: ns.name)
        daemons.append(controller)
        // Shaping stays at its default (enabled) so that its write methods, if registered, are
        // checked; the namespace has only its loopback, so nothing outside it is touched.
        let agent = try DaemonProcess(try Products.path("edge-agent"), ["--config", path("agent.toml")], netns: ns.name)
        daemons.append(agent)
        XCTAssertTrue(controller.waitUntil { FileManager.default.fileExists(atPath: self.path("controller.sock")) }, controller.log)
        XCTAssertTrue(agent.waitUntil { FileManager.default.fileExists(atPath: self.path("agent.sock")) }, agent.log)
        return (path("agent.sock"), path("controller.sock"))
    }

    func testOutsidersAreRefusedMembersReadButDoNotWrite() throws {
        let users = try XCTUnwrap(users)
        let (agentSocket, controllerSocket) = try startDaemons(group: users.group)
        let edgectl = try Products.path("edgectl")

        // The sockets carry the group and mode 0660.
        for socket in [agentSocket, controllerSocket] {
            let attributes = try FileManager.default.attributesOfItem(atPath: socket)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o660, socket)
            XCTAssertEqual(attributes[.groupOwnerAccountName] as? String, users.group, socket)
        }

        // Outside the group: connect(2) itself fails with EACCES, and edgectl says why.
        XCTAssertEqual(try users.connect(as: users.outsider, to: agentSocket), "EACCES")
        XCTAssertEqual(try users.connect(as: users.outsider, to: controllerSocket), "EACCES")
        let deniedAgent = try users.run(as: users.outsider, [edgectl, "status", "--socket", agentSocket])
        XCTAssertNotEqual(deniedAgent.status, 0)
        XCTAssertTrue(deniedAgent.stderr.contains("permission denied"), deniedAgent.stderr)
        let deniedController = try users.run(as: users.outsider, [edgectl, "nodes", "--socket", controllerSocket])
        XCTAssertNotEqual(deniedController.status, 0)
        XCTAssertTrue(deniedController.stderr.contains("permission denied"), deniedController.stderr)

        // In the group: the read methods answer, through edgectl and on the wire.
        let status = try users.run(as: users.member, [edgectl, "status", "--socket", agentSocket])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("access-node"), status.stdout)
        let nodes = try users.run(as: users.member, [edgectl, "nodes", "--socket", controllerSocket])
        XCTAssertEqual(nodes.status, 0, nodes.stderr)
        let agentStatus = try users.rpc(as: users.member, path: agentSocket, method: "agent.status", params: "null")
        XCTAssertNotNil(agentStatus["result"], "\(agentStatus)")
        let nodesList = try users.rpc(as: users.member, path: controllerSocket, method: "nodes.list", params: "null")
        XCTAssertNotNil(nodesList["result"], "\(nodesList)")

        // Writes: every method either daemon lists as `write` is refused to the member with
        // -32001, and is not refused to root (whatever else it answers, e.g. bad params).
        var writeMethods: [(socket: String, method: String)] = []
        for socket in [agentSocket, controllerSocket] {
            let list: RPCMethodList = try RPCClient(path: socket, timeout: .seconds(5)).call(RPCRouter.methodsMethod)
            writeMethods += list.methods.filter { $0.access == .write }.map { (socket, $0.name) }
        }
        for (socket, method) in writeMethods {
            let answer = try users.rpc(as: users.member, path: socket, method: method)
            let code = (answer["error"] as? [String: Any])?["code"] as? Int
            XCTAssertEqual(code, JSONRPCErrorCode.permissionDenied.rawValue, "\(method) as a group member: \(answer)")
            let asRoot = try users.rpc(as: "root", path: socket, method: method)
            let rootCode = (asRoot["error"] as? [String: Any])?["code"] as? Int
            XCTAssertNotEqual(rootCode, JSONRPCErrorCode.permissionDenied.rawValue, "\(method) as root: \(asRoot)")
        }
        if writeMethods.isEmpty {
            let note = "neither daemon registers a write method yet (shaping, issue 3, adds them): "
                + "the write refusal could not be checked against a real method"
            if TestEnvironment.isCI { print("note: \(note)") } else { throw XCTSkip(note) }
        } else {
            print("access: \(writeMethods.count) write methods refused to a group member: \(writeMethods.map(\.method))")
        }
    }
}
