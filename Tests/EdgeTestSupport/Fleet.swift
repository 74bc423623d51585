// A controller and N agents as real processes, each agent in its own network namespace joined to
// the controller's by a veth pair: the set-up the fleet, fault, access and Prometheus tests share.
//
// Node i's link is 198.18.i.0/24 (RFC 2544 benchmarking range): 198.18.i.1 on the controller's side,
// 198.18.i.2 on the node's. Nothing leaves the machine. `tearDown()` (or deinit) stops every process
// the fleet started and deletes its namespaces and scratch directory.
import Foundation

/// One agent namespace and its link to the controller's namespace.
public struct FleetNode {
    public let index: Int
    public let netns: ScratchNetns
    /// The veth end in the controller's namespace (down = node cut off).
    public let controllerSideLink: String
    /// 198.18.<index>.1, the controller's namespace as seen from the node.
    public var controllerAddress: String { "198.18.\(index).1" }
    /// 198.18.<index>.2, the node as seen from the controller's namespace.
    public var nodeAddress: String { "198.18.\(index).2" }
}

/// What goes into a controller.toml written by the fleet.
public struct FleetControllerSettings {
    public var listen = "0.0.0.0:8477"
    /// token_file = the fleet's token (write it first with `writeToken`); false = "" (loopback only).
    public var authenticated = true
    /// More `key = value` lines for [server] (TLS).
    public var serverExtra = ""
    /// registry.stale_after, nil = the default.
    public var staleAfter: String?
    /// Whole further sections, e.g. "[source]\nkind = …".
    public var extraSections = ""
    /// edge-controller --log-level.
    public var logLevel = "info"
    /// registry.state_file; nil = "" (not kept: fleet tests never share the default path).
    public var stateFile: String?
    /// More `key = value` lines for [registry].
    public var registryExtra = ""

    public init(listen: String = "0.0.0.0:8477", authenticated: Bool = true, serverExtra: String = "",
                staleAfter: String? = nil, extraSections: String = "", logLevel: String = "info") {
        self.listen = listen
        self.authenticated = authenticated
        self.serverExtra = serverExtra
        self.staleAfter = staleAfter
        self.extraSections = extraSections
        self.logLevel = logLevel
    }
}

/// What goes into an agent's TOML.
public struct FleetAgentSettings {
    public var interval = "250ms"
    /// telemetry.window, nil = the default.
    public var window: String?
    /// metrics.listen; "" = no metrics listener.
    public var metricsListen = ""
    /// shaping.enabled, nil = the default.
    public var shaping: Bool?
    /// controller.url, nil = no pushes.
    public var controllerURL: String?
    public var caFile: String?
    public var pushInterval = "500ms"
    public var pushTimeout = "400ms"
    /// controller.urls: more controllers every report also goes to.
    public var controllerURLs: [String] = []
    /// shaping.device, nil = the default route's device.
    public var shapingDevice: String?
    /// shaping.pin_path (on bpffs; the test removes it), nil = the default. With it the agent's
    /// state_dir moves into the fleet's directory, so agents that shape do not share one.
    public var shapingPinPath: String?

    public init(interval: String = "250ms", window: String? = nil, metricsListen: String = "", shaping: Bool? = nil,
                controllerURL: String? = nil, caFile: String? = nil, pushInterval: String = "500ms",
                pushTimeout: String = "400ms") {
        self.interval = interval
        self.window = window
        self.metricsListen = metricsListen
        self.shaping = shaping
        self.controllerURL = controllerURL
        self.caFile = caFile
        self.pushInterval = pushInterval
        self.pushTimeout = pushTimeout
    }
}

public final class Fleet {
    public let dir: URL
    /// The namespace the controller (and anything that must reach every node) runs in.
    public let controllerNetns: ScratchNetns
    public private(set) var nodes: [FleetNode] = []
    public private(set) var daemons: [DaemonProcess] = []

    /// A scratch directory and the controller's namespace; `name` tags both.
    public init(name: String) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        controllerNetns = try ScratchNetns(prefix: "\(name)c")
    }

    deinit { tearDown() }

    /// Stops every process (SIGTERM, then SIGKILL), then drops the namespaces and the directory.
    public func tearDown() {
        for d in daemons.reversed() { d.stop() }
        daemons = []
        nodes = [] // ScratchNetns deletes its namespace when released
        try? FileManager.default.removeItem(at: dir)
    }

    /// A file in the scratch directory.
    public func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    public var tokenPath: String { path("token") }
    public var controllerSocket: String { path("controller.sock") }
    public var controllerConfig: String { path("controller.toml") }
    public func agentSocket(_ name: String) -> String { path("\(name).sock") }

    /// Writes the bearer token file; returns the token.
    @discardableResult
    public func writeToken(_ token: String = "fleet-token-\(UUID().uuidString)") throws -> String {
        try token.write(toFile: tokenPath, atomically: true, encoding: .utf8)
        return token
    }

    /// Writes controller.toml.
    public func writeControllerConfig(_ s: FleetControllerSettings) throws {
        var text = """
        [server]
        listen = "\(s.listen)"
        token_file = "\(s.authenticated ? tokenPath : "")"
        \(s.serverExtra)
        [rpc]
        socket = "\(controllerSocket)"
        group = ""

        """
        text += "[registry]\nstate_file = \"\(s.stateFile ?? "")\"\n\(s.registryExtra)\n"
        if let stale = s.staleAfter { text += "stale_after = \"\(stale)\"\n" }
        text += s.extraSections
        try text.write(toFile: controllerConfig, atomically: true, encoding: .utf8)
    }

    /// Starts edge-controller on the written config in the controller's namespace, without waiting
    /// (after a SIGKILL its old socket file is still there, so the socket says nothing).
    public func launchController(logLevel: String = "info") throws -> DaemonProcess {
        try launch(try DaemonProcess(try Products.path("edge-controller"),
                                     ["--config", controllerConfig, "--log-level", logLevel], netns: controllerNetns.name))
    }

    /// Writes the config, starts the controller and waits for its RPC socket.
    public func startController(_ s: FleetControllerSettings = FleetControllerSettings()) throws -> DaemonProcess {
        try? FileManager.default.removeItem(atPath: controllerSocket)
        try writeControllerConfig(s)
        let controller = try launchController(logLevel: s.logLevel)
        try controller.waitForFile(controllerSocket)
        return controller
    }

    /// A namespace for node `index` (1...254) with its veth to the controller's namespace, both ends up.
    public func addNode(_ index: Int) throws -> FleetNode {
        precondition((1...254).contains(index), "node index \(index) outside 1...254")
        let ns = try ScratchNetns(prefix: "edgen\(index)")
        let tag = UInt16.random(in: 0...9999)
        let (a, b) = ("efc\(index)x\(tag)", "efn\(index)x\(tag)") // ≤ 15 bytes (IFNAMSIZ)
        try Veth.add(VethEnd(a, in: controllerNetns.name, address: "198.18.\(index).1/24"),
                     VethEnd(b, in: ns.name, address: "198.18.\(index).2/24"))
        let node = FleetNode(index: index, netns: ns, controllerSideLink: a)
        nodes.append(node)
        return node
    }

    /// Writes `<name>.toml` (node_name = name), starts edge-agent in `netns` and waits for its RPC socket.
    public func startAgent(_ name: String, in netns: ScratchNetns, _ s: FleetAgentSettings) throws -> DaemonProcess {
        var text = """
        [agent]
        node_name = "\(name)"
        [telemetry]
        interval = "\(s.interval)"
        \(s.window.map { "window = \"\($0)\"" } ?? "")
        [rpc]
        socket = "\(agentSocket(name))"
        group = ""
        [metrics]
        listen = "\(s.metricsListen)"

        """
        if let shaping = s.shaping { text += "[shaping]\nenabled = \(shaping)\n" }
        if s.shaping == nil && (s.shapingDevice != nil || s.shapingPinPath != nil) { text += "[shaping]\n" }
        if let device = s.shapingDevice { text += "device = \"\(device)\"\n" }
        if let pin = s.shapingPinPath {
            text += "pin_path = \"\(pin)\"\n"
            text = text.replacingOccurrences(of: "[agent]\n", with: "[agent]\nstate_dir = \"\(path("\(name)-state"))\"\n")
        }
        if let url = s.controllerURL {
            text += """
            [controller]
            url = "\(url)"
            urls = [\(s.controllerURLs.map { "\"\($0)\"" }.joined(separator: ", "))]
            token_file = "\(tokenPath)"
            \(s.caFile.map { "ca_file = \"\($0)\"" } ?? "")
            push_interval = "\(s.pushInterval)"
            timeout = "\(s.pushTimeout)"

            """
        }
        let agent = launch(try DaemonProcess(name: "edge-agent \(name)", executable: try Products.path("edge-agent"),
                                             config: text, configPath: path("\(name).toml"), netns: netns.name))
        try agent.waitForFile(agentSocket(name))
        return agent
    }

    /// The same bulk TCP load on every node's loopback at once for `seconds`, after constraining the
    /// loopback of `degraded` (an index into `nodes`) with `TCPLoad.constrainLoopback`: that node
    /// sees queue drops and retransmits, the others none.
    public func loadWithOneDegraded(_ nodes: [FleetNode], degraded: Int, seconds: Double = 3) throws {
        try TCPLoad.constrainLoopback(nodes[degraded].netns)
        let done = DispatchGroup()
        for node in nodes {
            done.enter()
            Thread.detachNewThread {
                _ = try? TCPLoad.run(in: node.netns, conns: 4, seconds: seconds, mode: "bulk")
                done.leave()
            }
        }
        done.wait()
    }

    /// kube-scheduler's `POST /prioritize` (NodeNames shape) to the controller from inside its
    /// namespace; returns Host → Score and the raw answer.
    public func prioritize(_ nodeNames: [String], port: Int = 8477) throws -> (scores: [String: Int], body: String) {
        let names = nodeNames.map { "\"\($0)\"" }.joined(separator: ",")
        let body = #"{"Pod":{"metadata":{"name":"web-1","namespace":"default"}},"Nodes":null,"NodeNames":["# + names + "]}"
        let http = try controllerNetns.run(["python3", "-c", """
        import sys, urllib.request
        r = urllib.request.Request(sys.argv[2], data=sys.argv[1].encode(), headers={"Content-Type": "application/json"})
        print(urllib.request.urlopen(r, timeout=5).read().decode())
        """, body, "http://127.0.0.1:\(port)/prioritize"])
        let list = try JSONSerialization.jsonObject(with: Data(http.stdout.utf8)) as? [[String: Any]] ?? []
        let scores = Dictionary(list.compactMap { e -> (String, Int)? in
            guard let h = e["Host"] as? String, let s = e["Score"] as? Int else { return nil }
            return (h, s)
        }, uniquingKeysWith: { first, _ in first })
        return (scores, http.stdout)
    }

    /// Starts any other process in `netns` and stops it with the fleet.
    public func launch(_ executable: String, _ arguments: [String], in netns: ScratchNetns) throws -> DaemonProcess {
        try launch(try DaemonProcess(executable, arguments, netns: netns.name))
    }

    private func launch(_ d: DaemonProcess) -> DaemonProcess {
        daemons.append(d)
        return d
    }

}
