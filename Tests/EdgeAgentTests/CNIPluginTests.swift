// edgenode-bandwidth driven exactly as libcni drives a conflist: environment variables
// (CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH), the plugin's network config on
// stdin with name, cniVersion, prevResult and the runtimeConfig of its capabilities, chained
// after Debian's real `bridge` plugin (with `host-local` IPAM). Everything runs inside a "node"
// namespace with the real edge-agent shaping its uplink veth. Root.
import EdgeAPI
@testable import EdgeAgent
import EdgeConfig
import EdgeCore
import EdgeRPC
import EdgeTestSupport
import Foundation
import XCTest

struct PluginRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(stdout.utf8)) }
}

final class CNIChainFixture {
    static let cniDir = "/usr/lib/cni"
    let node: ScratchNetns
    let outside: ScratchNetns
    let dir: URL
    let pinPath = "/sys/fs/bpf/edgetest-cni-\(UInt32.random(in: 0...UInt32.max))"
    var socket: String { dir.appendingPathComponent("agent.sock").path }
    var stateDir: String { dir.appendingPathComponent("state").path }
    var agent: DaemonProcess?
    let plugin: String
    var pods: [ScratchNetns] = []

    init() throws {
        try requireRoot()
        for p in ["bridge", "host-local"] where !FileManager.default.isExecutableFile(atPath: Self.cniDir + "/" + p) {
            try unmet("needs \(Self.cniDir)/\(p) (Debian package containernetworking-plugins, in the Makefile's APT_BUILD)")
        }
        plugin = try Products.path("edgenode-bandwidth")
        node = try ScratchNetns(prefix: "edgetest-cninode")
        outside = try ScratchNetns(prefix: "edgetest-cniout")
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-cni-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Veth.add(VethEnd("up0", in: node.name, address: "192.168.208.1/24"),
                     VethEnd("eth0", in: outside.name, address: "192.168.208.2/24"))
    }

    deinit {
        agent?.stop()
        for name in EDTDatapath.pinNames { unlink(pinPath + "/" + name) }
        rmdir(pinPath)
        try? FileManager.default.removeItem(at: dir)
    }

    func startAgent() throws {
        var config = AgentConfig.defaults
        config.agent.nodeName = "cni-node"
        config.agent.stateDir = stateDir
        config.telemetry.intervalSeconds = 0.5
        config.rpc = RPCConfig(socket: socket, group: nil)
        config.metrics.listen = nil
        config.shaping.device = "up0"
        config.shaping.pinPath = pinPath
        let path = dir.appendingPathComponent("agent.toml").path
        try config.tomlText.write(toFile: path, atomically: true, encoding: .utf8)
        let process = try DaemonProcess("/usr/bin/nsenter", ["--net=/run/netns/\(node.name)",
                                                             try Products.path("edge-agent"), "--config", path])
        agent = process
        let pid = process.process.processIdentifier
        guard process.waitUntil(timeout: 30, {
            (try? self.client().call("agent.status", as: AgentStatus.self))?.pid == pid
        }) else { throw AgentDidNotStart(log: process.log) }
    }

    func client() -> RPCClient { RPCClient(path: socket, timeout: .seconds(10)) }

    func newPod() throws -> ScratchNetns {
        let pod = try ScratchNetns(prefix: "edgetest-cnipod")
        pods.append(pod)
        return pod
    }

    /// The conflist: bridge + host-local, then edgenode-bandwidth with the bandwidth capability.
    func conflist(version: String = "1.0.0", agentSocket: String? = nil) -> JSONValue {
        var bw: [String: JSONValue] = ["type": .string("edgenode-bandwidth"), "capabilities": .object(["bandwidth": .bool(true)]),
                                       "agentSocket": .string(agentSocket ?? socket)]
        return .object([
            "cniVersion": .string(version), "name": .string("edgetest-pods"),
            "plugins": .array([
                .object(["type": .string("bridge"), "bridge": .string("cni0"), "isGateway": .bool(true), "ipMasq": .bool(true),
                         "ipam": .object(["type": .string("host-local"), "subnet": .string("10.208.0.0/24"),
                                          "dataDir": .string(dir.appendingPathComponent("ipam").path),
                                          "routes": .array([.object(["dst": .string("0.0.0.0/0")])])])]),
                .object(bw),
            ]),
        ])
    }

    /// One plugin of the list with what libcni adds: name, cniVersion, prevResult, and the
    /// runtimeConfig of the capabilities the plugin declares.
    func pluginConfig(_ list: JSONValue, index: Int, prevResult: JSONValue?, bandwidth: JSONValue?) -> Data {
        guard case .object(var entry) = list["plugins"]!.arrayValue![index] else { fatalError("plugin entry") }
        entry["name"] = list["name"]
        entry["cniVersion"] = list["cniVersion"]
        if let prevResult { entry["prevResult"] = prevResult }
        if let bandwidth, entry["capabilities"]?["bandwidth"]?.boolValue == true {
            entry["runtimeConfig"] = .object(["bandwidth": bandwidth])
        }
        return CNIChainFixture.encode(.object(entry))
    }

    static func encode(_ v: JSONValue) -> Data { (try? JSONEncoder().encode(v)) ?? Data() }

    /// Runs one plugin binary inside the node namespace as libcni would.
    func run(_ executable: String, command: String, containerId: String, netns: String, ifname: String = "eth0",
             stdin: Data) throws -> PluginRun {
        let p = Process()
        // `ip netns exec`, as the runtime's own namespace would look: /sys shows the node's devices
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip", "netns", "exec", node.name, executable]
        p.environment = ["CNI_COMMAND": command, "CNI_CONTAINERID": containerId, "CNI_NETNS": netns,
                         "CNI_IFNAME": ifname, "CNI_PATH": Self.cniDir + ":" + Products.directory.path,
                         "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        let input = Pipe(), out = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardOutput = out
        p.standardError = err
        try p.run()
        input.fileHandleForWriting.write(stdin)
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return PluginRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }

    func bridgeBinary() -> String { Self.cniDir + "/bridge" }

    /// ADD through the chain; returns (bridge's result, our result).
    func add(_ list: JSONValue, containerId: String, pod: ScratchNetns, bandwidth: JSONValue?) throws -> (PluginRun, PluginRun) {
        let netns = "/run/netns/" + pod.name
        let bridge = try run(bridgeBinary(), command: "ADD", containerId: containerId, netns: netns,
                             stdin: pluginConfig(list, index: 0, prevResult: nil, bandwidth: bandwidth))
        XCTAssertEqual(bridge.status, 0, "bridge ADD: \(bridge.stdout) \(bridge.stderr)")
        let ours = try run(plugin, command: "ADD", containerId: containerId, netns: netns,
                           stdin: pluginConfig(list, index: 1, prevResult: bridge.json, bandwidth: bandwidth))
        return (bridge, ours)
    }

    /// DEL or CHECK of our plugin with the cached result, as libcni does.
    func ours(_ command: String, _ list: JSONValue, containerId: String, pod: ScratchNetns?, prevResult: JSONValue?,
              bandwidth: JSONValue?) throws -> PluginRun {
        try run(plugin, command: command, containerId: containerId, netns: pod.map { "/run/netns/" + $0.name } ?? "",
                stdin: pluginConfig(list, index: 1, prevResult: prevResult, bandwidth: bandwidth))
    }

    func bridgeDel(_ list: JSONValue, containerId: String, pod: ScratchNetns, prevResult: JSONValue?) throws {
        let r = try run(bridgeBinary(), command: "DEL", containerId: containerId, netns: "/run/netns/" + pod.name,
                        stdin: pluginConfig(list, index: 0, prevResult: prevResult, bandwidth: nil))
        XCTAssertEqual(r.status, 0, "bridge DEL: \(r.stdout) \(r.stderr)")
    }

    func classes() throws -> [ShapingClassInfo] { try client().call("shaping.list", as: ShapingListResult.self).classes }

    /// Ingress filters on a node device as tc sees them.
    func ingressFilters(_ device: String) throws -> String {
        try node.run(["tc", "filter", "show", "dev", device, "ingress"]).stdout
    }
}

final class CNIPluginTests: XCTestCase {
    static let bandwidth: JSONValue = .object(["egressRate": .int(30_000_000), "egressBurst": .int(1_000_000)])

    func testAddCheckDelAgainstTheRealAgentAfterRealBridgeAndHostLocal() throws {
        try requireBTF()
        let f = try CNIChainFixture()
        try f.startAgent()
        let pod = try f.newPod()
        let list = f.conflist()
        let (bridge, add) = try f.add(list, containerId: "ctr-a", pod: pod, bandwidth: Self.bandwidth)
        XCTAssertEqual(add.status, 0, "ADD: \(add.stdout) \(add.stderr)")
        XCTAssertEqual(add.json, bridge.json, "prevResult is passed through unchanged")

        let classes = try f.classes()
        XCTAssertEqual(classes.count, 1)
        let c = try XCTUnwrap(classes.first)
        XCTAssertEqual(c.rate.bitsPerSecond, 30_000_000)
        XCTAssertEqual(c.origin, "cni")
        let ip = try XCTUnwrap(bridge.json?["ips"]?.arrayValue?.first?["address"]?.stringValue)
        XCTAssertEqual(c.selector, ip.split(separator: "/")[0] + "/32")
        let hostVeth = try XCTUnwrap(bridge.json?["interfaces"]?.arrayValue?.compactMap { i -> String? in
            guard i["sandbox"] == nil, let n = i["name"]?.stringValue, n != "cni0" else { return nil }
            return n
        }.first)
        let filters = try f.ingressFilters(hostVeth)
        XCTAssertTrue(filters.contains("edgenode-classify"), filters)
        // edgectl says where the class came from
        let listed = try sh([try Products.path("edgectl"), "shape", "list", "--socket", f.socket]).stdout
        XCTAssertTrue(listed.contains("cni"), listed)

        let check = try f.ours("CHECK", list, containerId: "ctr-a", pod: pod, prevResult: add.json, bandwidth: Self.bandwidth)
        XCTAssertEqual(check.status, 0, "CHECK: \(check.stdout)")
        XCTAssertEqual(check.stdout, "")
        // CHECK with another rate than the agent has: a CNI error
        let other: JSONValue = .object(["egressRate": .int(40_000_000), "egressBurst": .int(1_000_000)])
        let wrong = try f.ours("CHECK", list, containerId: "ctr-a", pod: pod, prevResult: add.json, bandwidth: other)
        XCTAssertEqual(wrong.status, 1)
        XCTAssertEqual(wrong.json?["code"]?.intValue, 101, wrong.stdout)

        // DEL (libcni: reverse order), again, and for a container never added
        let del = try f.ours("DEL", list, containerId: "ctr-a", pod: pod, prevResult: add.json, bandwidth: Self.bandwidth)
        XCTAssertEqual(del.status, 0, "DEL: \(del.stdout) \(del.stderr)")
        try f.bridgeDel(list, containerId: "ctr-a", pod: pod, prevResult: add.json)
        XCTAssertTrue(try f.classes().isEmpty, "DEL removed the class")
        let again = try f.ours("DEL", list, containerId: "ctr-a", pod: pod, prevResult: add.json, bandwidth: Self.bandwidth)
        XCTAssertEqual(again.status, 0, "repeated DEL: \(again.stdout)")
        let unknown = try f.ours("DEL", list, containerId: "never-seen", pod: nil, prevResult: nil, bandwidth: nil)
        XCTAssertEqual(unknown.status, 0, "DEL of an unknown container: \(unknown.stdout)")
        let check2 = try f.ours("CHECK", list, containerId: "ctr-a", pod: pod, prevResult: add.json, bandwidth: Self.bandwidth)
        XCTAssertNotEqual(check2.status, 0, "CHECK after DEL fails")
        XCTAssertNotNil(check2.json?["msg"]?.stringValue)
    }

    func testSpec040ResultsAndNoRateMeansPassThrough() throws {
        try requireBTF()
        let f = try CNIChainFixture()
        try f.startAgent()
        let list = f.conflist(version: "0.4.0")
        let pod = try f.newPod()
        let (bridge, add) = try f.add(list, containerId: "ctr-040", pod: pod, bandwidth: Self.bandwidth)
        XCTAssertEqual(add.status, 0, "ADD 0.4.0: \(add.stdout)")
        XCTAssertEqual(add.json?["cniVersion"]?.stringValue, "0.4.0")
        XCTAssertEqual(add.json, bridge.json)
        XCTAssertEqual(try f.classes().count, 1)
        // a pod without a bandwidth annotation: nothing to shape, the result goes through
        let pod2 = try f.newPod()
        let (bridge2, add2) = try f.add(list, containerId: "ctr-plain", pod: pod2, bandwidth: nil)
        XCTAssertEqual(add2.status, 0)
        XCTAssertEqual(add2.json, bridge2.json)
        XCTAssertEqual(try f.classes().count, 1)
        for (id, p, r) in [("ctr-040", pod, add), ("ctr-plain", pod2, add2)] {
            XCTAssertEqual(try f.ours("DEL", list, containerId: id, pod: p, prevResult: r.json, bandwidth: nil).status, 0)
            try f.bridgeDel(list, containerId: id, pod: p, prevResult: r.json)
        }
        XCTAssertTrue(try f.classes().isEmpty)
    }

    func testMissingAgentFailsAddNamingTheSocketAndDelStillSucceeds() throws {
        let f = try CNIChainFixture()
        let missing = f.dir.appendingPathComponent("no-agent.sock").path
        let list = f.conflist(agentSocket: missing)
        let pod = try f.newPod()
        let (bridge, add) = try f.add(list, containerId: "ctr-down", pod: pod, bandwidth: Self.bandwidth)
        XCTAssertEqual(add.status, 1)
        let error = try XCTUnwrap(add.json, add.stdout)
        XCTAssertEqual(error["code"]?.intValue, 11, "try again later")
        XCTAssertEqual(error["cniVersion"]?.stringValue, "1.0.0")
        XCTAssertTrue(error["msg"]?.stringValue?.contains(missing) == true, add.stdout)
        XCTAssertNotNil(error["details"]?.stringValue)
        let del = try f.ours("DEL", list, containerId: "ctr-down", pod: pod, prevResult: bridge.json, bandwidth: Self.bandwidth)
        XCTAssertEqual(del.status, 0, "DEL with the agent down: \(del.stdout)")
        try f.bridgeDel(list, containerId: "ctr-down", pod: pod, prevResult: bridge.json)
    }

    func testMalformedInputGetsCNIErrors() throws {
        let f = try CNIChainFixture()
        func ours(_ command: String, _ stdin: String) throws -> PluginRun {
            try f.run(f.plugin, command: command, containerId: "ctr-bad", netns: "/run/netns/" + f.node.name, stdin: Data(stdin.utf8))
        }
        func expect(_ r: PluginRun, code: Int, mentions text: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(r.status, 1, r.stdout, file: file, line: line)
            XCTAssertEqual(r.json?["code"]?.intValue, code, r.stdout, file: file, line: line)
            XCTAssertTrue(r.stdout.contains(text), r.stdout, file: file, line: line)
            XCTAssertNotNil(r.json?["msg"]?.stringValue, file: file, line: line)
            XCTAssertNotNil(r.json?["details"], file: file, line: line)
            XCTAssertNotNil(r.json?["cniVersion"], file: file, line: line)
        }
        expect(try ours("ADD", "{not json"), code: 6, mentions: "cannot decode")
        expect(try ours("ADD", "[1,2]"), code: 6, mentions: "expected a JSON object")
        expect(try ours("ADD", #"{"name":"x","type":"edgenode-bandwidth"}"#), code: 7, mentions: "cniVersion")
        expect(try ours("ADD", #"{"cniVersion":"9.9.9","name":"x"}"#), code: 1, mentions: "9.9.9")
        let ingress = #"{"cniVersion":"1.0.0","name":"x","runtimeConfig":{"bandwidth":{"ingressRate":1000000,"ingressBurst":100000}},"prevResult":{}}"#
        expect(try ours("ADD", ingress), code: 2, mentions: "ingressRate")
        let noBurst = #"{"cniVersion":"1.0.0","name":"x","runtimeConfig":{"bandwidth":{"egressRate":10000000}},"prevResult":{}}"#
        expect(try ours("ADD", noBurst), code: 7, mentions: "egressBurst")
        let negative = #"{"cniVersion":"1.0.0","name":"x","runtimeConfig":{"bandwidth":{"egressRate":-5}}}"#
        expect(try ours("ADD", negative), code: 7, mentions: "runtimeConfig.bandwidth.egressRate")
        let unchained = #"{"cniVersion":"1.0.0","name":"x","runtimeConfig":{"bandwidth":{"egressRate":10000000,"egressBurst":100000}}}"#
        expect(try ours("ADD", unchained), code: 7, mentions: "prevResult")
        let noVeth = #"{"cniVersion":"1.0.0","name":"x","runtimeConfig":{"bandwidth":{"egressRate":10000000,"egressBurst":100000}},"prevResult":{"interfaces":[{"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"address":"10.1.0.2/24","interface":0}]}}"#
        expect(try ours("ADD", noVeth), code: 7, mentions: "host-side veth")
        expect(try ours("FROB", #"{"cniVersion":"1.0.0"}"#), code: 4, mentions: "FROB")

        let version = try ours("VERSION", #"{"cniVersion":"0.4.0"}"#)
        XCTAssertEqual(version.status, 0)
        let supported = version.json?["supportedVersions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(supported.contains("0.4.0") && supported.contains("1.0.0"), version.stdout)
    }
}
