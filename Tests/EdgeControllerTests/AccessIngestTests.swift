// Access control on the controller's HTTP side, with the real binaries in a namespace made for
// the test: report ingest without a token or with a wrong one is 401 and the log names the
// rejection without either token in it; with TLS (a CA and server certificate made here with
// openssl) an agent that trusts the CA pushes over https, and one that does not fails with a
// TLS error and never reaches the registry.
import EdgeAPI
import EdgeCore
import EdgeRPC
import EdgeTelemetry
import EdgeTestSupport
import Foundation
import XCTest

final class AccessIngestTests: XCTestCase {
    var fleet: Fleet?

    override func setUp() async throws {
        try requireRoot()
        fleet = try Fleet(name: "ingest")
    }

    override func tearDown() async throws {
        fleet?.tearDown()
        fleet = nil
    }

    /// Controller and agents share the fleet's controller namespace here: only loopback is used.
    func startController(token: String, tls: String = "") throws -> (Fleet, DaemonProcess) {
        let fleet = try XCTUnwrap(fleet)
        try fleet.writeToken(token)
        return (fleet, try fleet.startController(FleetControllerSettings(listen: "127.0.0.1:8477", serverExtra: tls)))
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
        let token = "right-token-\(UUID().uuidString)"
        let wrong = "wrong-token-\(UUID().uuidString)"
        let (fleet, controller) = try startController(token: token)
        let ns = fleet.controllerNetns

        XCTAssertEqual(try post(ns, authorization: nil), 401)
        XCTAssertEqual(try post(ns, authorization: "Bearer \(wrong)"), 401)
        XCTAssertEqual(try post(ns, authorization: wrong), 401, "a token without the Bearer scheme")
        XCTAssertEqual(try post(ns, authorization: "Bearer \(token)x"), 401, "the right token plus one byte")
        XCTAssertEqual(try post(ns, authorization: "Bearer \(token)"), 200, "premise: the right token is accepted")
        let nodes: NodesListResult = try RPCClient(path: fleet.controllerSocket, timeout: .seconds(5)).call("nodes.list")
        XCTAssertEqual(nodes.nodes.map(\.node), ["intruder"], "only the authorised report was stored")

        Thread.sleep(forTimeInterval: 0.3) // the log is written asynchronously
        let log = controller.log
        XCTAssertTrue(log.contains("rejected report"), "rejections are logged: \(log)")
        XCTAssertFalse(log.contains(wrong), "the presented token leaked into the log")
        XCTAssertFalse(log.contains(token), "the controller's token leaked into the log")
        XCTAssertFalse(log.contains(String(wrong.suffix(12))), "part of the presented token leaked into the log")
    }

    /// A throwaway CA and a server certificate for 127.0.0.1 signed by it.
    func makeCertificates(_ fleet: Fleet) throws {
        let path = fleet.path
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

    func startAgent(_ fleet: Fleet, name: String, caFile: String?) throws -> (DaemonProcess, String) {
        let agent = try fleet.startAgent(name, in: fleet.controllerNetns, FleetAgentSettings(
            shaping: false, controllerURL: "https://127.0.0.1:8477", caFile: caFile, pushInterval: "1s", pushTimeout: "1s"))
        return (agent, fleet.agentSocket(name))
    }

    func testTLSWithAPrivateCAAndAnAgentThatDoesNotTrustIt() throws {
        try requireBTF()
        let fleet = try XCTUnwrap(fleet)
        try makeCertificates(fleet)
        let (_, controller) = try startController(token: "tls-token-\(UUID().uuidString)", tls: """
            tls_cert = "\(fleet.path("server.pem"))"
            tls_key = "\(fleet.path("server.key"))"
            """)
        let (_, trusting) = try startAgent(fleet, name: "trusting", caFile: fleet.path("ca.pem"))
        let (untrustingAgent, untrusting) = try startAgent(fleet, name: "untrusting", caFile: nil)

        let rpc = RPCClient(path: fleet.controllerSocket, timeout: .seconds(5))
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
