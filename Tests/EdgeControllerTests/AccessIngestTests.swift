// Access control on the controller's HTTP side, with the real binaries in a namespace made for
// the test: report ingest without a token or with a wrong one is 401 and the log names the
// rejection without either token in it; with TLS (a CA and server certificate made here with
// openssl) an agent that trusts the CA pushes over https, and one that does not fails with a
// TLS error and never reaches the registry.
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

final class AccessIngestTests: XCTestCase {
    var dir: URL!
    var ns: ScratchNetns?
    var daemons: [DaemonProcess] = []

    override func setUp() async throws {
        try requireRoot()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-ingest-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        for d in daemons { d.stop() }
        daemons = []
        ns = nil
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    func startController(_ ns: ScratchNetns, token: String, extra: String = "") throws -> DaemonProcess {
        try token.write(toFile: path("token"), atomically: true, encoding: .utf8)
        try """
        [server]
        listen = "127.0.0.1:8477"
        token_file = "\(path("token"))"
        \(extra)
        [rpc]
        socket = "\(path("controller.sock"))"
        group = ""
        """.write(toFile: path("controller.toml"), atomically: true, encoding: .utf8)
        let controller = try DaemonProcess(try Products.path("edge-controller"), ["--config", path("controller.toml")], netns: ns.name)
        daemons.append(controller)
        XCTAssertTrue(controller.waitUntil { FileManager.default.fileExists(atPath: self.path("controller.sock")) }, controller.log)
        return controller
    }

    /// POSTs a valid report from inside `ns`; returns the HTTP status.
    func post(_ ns: ScratchNetns, authorization: String?) throws -> Int {
        let w = TelemetryWindow(node: "intruder", agentVersion: "test", generatedAt: Date().timeIntervalSince1970, windowSeconds: 10,
                                rttP50Ms: 1, rttP99Ms: 2, rttSamples: 10, retransRate: 0, retransmits: 0, segmentsOut: 10,
                                dropRate: 0, dropRateWeighted: 0, drops: [], runqlatP95Ms: 1, runqlatSamples: 10,
                                cpuUtilization: 0.1, peers: [])
        let body = String(decoding: try EdgeJSON.encoder().encode(w), as: UTF8.self)
        let r = try ns.run(["python3", "-c", """
            import sys, urllib.request, urllib.error
            h = {"Content-Type": "application/json"}
            if sys.argv[2]: h["Authorization"] = sys.argv[2]
            r = urllib.request.Request("http://127.0.0.1:8477/v1/reports", data=sys.argv[1].encode(), headers=h)
            try:
                print(urllib.request.urlopen(r, timeout=5).status)
            except urllib.error.HTTPError as e:
                print(e.code)
            """, body, authorization ?? ""])
        return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    func testMissingOrWrongTokenIs401AndNoTokenIsLogged() throws {
        let ns = try ScratchNetns(prefix: "edgeing")
        self.ns = ns
        let token = "right-token-\(UUID().uuidString)"
        let wrong = "wrong-token-\(UUID().uuidString)"
        let controller = try startController(ns, token: token)

        XCTAssertEqual(try post(ns, authorization: nil), 401)
        XCTAssertEqual(try post(ns, authorization: "Bearer \(wrong)"), 401)
        XCTAssertEqual(try post(ns, authorization: wrong), 401, "a token without the Bearer scheme")
        XCTAssertEqual(try post(ns, authorization: "Bearer \(token)x"), 401, "the right token plus one byte")
        XCTAssertEqual(try post(ns, authorization: "Bearer \(token)"), 200, "premise: the right token is accepted")
        let nodes: NodesListResult = try RPCClient(path: path("controller.sock"), timeout: .seconds(5)).call("nodes.list")
        XCTAssertEqual(nodes.nodes.map(\.node), ["intruder"], "only the authorised report was stored")

        Thread.sleep(forTimeInterval: 0.3) // the log is written asynchronously
        let log = controller.log
        XCTAssertTrue(log.contains("rejected report"), "rejections are logged: \(log)")
        XCTAssertFalse(log.contains(wrong), "the presented token leaked into the log")
        XCTAssertFalse(log.contains(token), "the controller's token leaked into the log")
        XCTAssertFalse(log.contains(String(wrong.suffix(12))), "part of the presented token leaked into the log")
    }

    /// A throwaway CA and a server certificate for 127.0.0.1 signed by it.
    func makeCertificates() throws {
        try sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", path("ca.key"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=edgenode test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=127.0.0.1"])
        try """
        basicConstraints=CA:FALSE
        keyUsage=critical,digitalSignature,keyEncipherment
        extendedKeyUsage=serverAuth
        subjectAltName=IP:127.0.0.1,DNS:localhost
        """.write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try sh(["openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
                "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext")])
    }

    func startAgent(_ ns: ScratchNetns, name: String, caFile: String?) throws -> (DaemonProcess, String) {
        let socket = path("\(name).sock")
        try """
        [agent]
        node_name = "\(name)"
        [telemetry]
        interval = "250ms"
        [rpc]
        socket = "\(socket)"
        group = ""
        [metrics]
        listen = ""
        [shaping]
        enabled = false
        [controller]
        url = "https://127.0.0.1:8477"
        token_file = "\(path("token"))"
        \(caFile.map { "ca_file = \"\($0)\"" } ?? "")
        push_interval = "1s"
        timeout = "1s"
        """.write(toFile: path("\(name).toml"), atomically: true, encoding: .utf8)
        let agent = try DaemonProcess(try Products.path("edge-agent"), ["--config", path("\(name).toml")], netns: ns.name)
        daemons.append(agent)
        XCTAssertTrue(agent.waitUntil { FileManager.default.fileExists(atPath: socket) }, agent.log)
        return (agent, socket)
    }

    func testTLSWithAPrivateCAAndAnAgentThatDoesNotTrustIt() throws {
        try requireBTF()
        let ns = try ScratchNetns(prefix: "edgetls")
        self.ns = ns
        try makeCertificates()
        let controller = try startController(ns, token: "tls-token-\(UUID().uuidString)", extra: """
            tls_cert = "\(path("server.pem"))"
            tls_key = "\(path("server.key"))"
            """)
        let (_, trusting) = try startAgent(ns, name: "trusting", caFile: path("ca.pem"))
        let (untrustingAgent, untrusting) = try startAgent(ns, name: "untrusting", caFile: nil)

        let rpc = RPCClient(path: path("controller.sock"), timeout: .seconds(5))
        let deadline = Date().addingTimeInterval(10)
        var names: [String] = []
        while Date() < deadline {
            names = ((try? rpc.call("nodes.list", as: NodesListResult.self))?.nodes ?? []).map(\.node)
            if names.contains("trusting") { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertEqual(names, ["trusting"], "only the agent that trusts the CA gets through: \(controller.log)")
        let status: ControllerStatusResult = try rpc.call("controller.status")
        XCTAssertTrue(status.tls)

        let ok: AgentStatus = try RPCClient(path: trusting, timeout: .seconds(5)).call("agent.status")
        XCTAssertTrue(ok.controller.hasPrefix("ok"), ok.controller)
        var failing: AgentStatus = try RPCClient(path: untrusting, timeout: .seconds(5)).call("agent.status")
        let failDeadline = Date().addingTimeInterval(10)
        while !failing.controller.hasPrefix("failing") && Date() < failDeadline {
            Thread.sleep(forTimeInterval: 0.2)
            failing = try RPCClient(path: untrusting, timeout: .seconds(5)).call("agent.status")
        }
        XCTAssertTrue(failing.controller.hasPrefix("failing"), failing.controller)
        let reason = failing.controller.lowercased()
        XCTAssertTrue(["certificate", "handshake", "ssl", "tls"].contains { reason.contains($0) },
                      "the failure names TLS: \(failing.controller)\n\(untrustingAgent.log)")
        print("tls: trusted agent pushes over https; untrusted agent: \(failing.controller)")
    }
}
