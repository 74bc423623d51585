@testable import EdgeConfig
@testable import EdgeCore
import Foundation
import XCTest

final class AgentConfigTests: XCTestCase {
    static let file = "/etc/edgenode/agent.toml"

    private func parse(_ text: String) throws -> AgentConfig {
        try AgentConfig.parse(text: text, file: Self.file)
    }

    /// The error `text` produces, rendered.
    private func error(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        rejection(text, by: parse, file: file, line: line)
    }

    func testEmptyOrCommentOnlyFileGivesTheDefaults() throws {
        XCTAssertEqual(try parse(""), AgentConfig.defaults)
        XCTAssertEqual(try parse("# nothing set\n\n[telemetry]\n[shaping]\n"), AgentConfig.defaults)
    }

    func testDefaultValues() {
        let d = AgentConfig.defaults
        XCTAssertNil(d.agent.nodeName)
        XCTAssertEqual(d.agent.stateDir, "/var/lib/edge-agent")
        XCTAssertEqual(d.telemetry.intervalSeconds, 1)
        XCTAssertEqual(d.telemetry.windowSeconds, 30)
        XCTAssertEqual(d.telemetry.maxPeers, 256)
        XCTAssertEqual(d.telemetry.netns, .agentNamespace)
        XCTAssertEqual(d.telemetry.dropWeights, [:])
        XCTAssertEqual(d.telemetry.defaultDropWeight, 1)
        XCTAssertEqual(d.rpc, RPCConfig(socket: "/run/edge-agent/agent.sock", group: "edgenode",
                                        maxFrameBytes: 1_048_576, maxClients: 1024))
        XCTAssertEqual(d.metrics.listen?.description, "127.0.0.1:9464")
        XCTAssertNil(d.controller.url)
        XCTAssertNil(d.controller.tokenFile)
        XCTAssertNil(d.controller.caFile)
        XCTAssertEqual(d.controller.pushIntervalSeconds, 5)
        XCTAssertEqual(d.controller.timeoutSeconds, 2)
        XCTAssertTrue(d.shaping.enabled)
        XCTAssertNil(d.shaping.device)
        XCTAssertNil(d.shaping.horizonSeconds)
        XCTAssertTrue(d.shaping.ecn)
        XCTAssertEqual(d.shaping.pinPath, "/sys/fs/bpf/edgenode")
    }

    static let fullFile = """
        [agent]
        node_name = "edge-7.example"
        state_dir = "/srv/edge"

        [telemetry]
        interval = "500ms"
        window = "1m"
        max_peers = 16
        netns = "all"
        default_drop_weight = 0.5

        [telemetry.drop_weights]
        NO_SOCKET = 0
        skb_drop_reason_tcp_csum = 3   # normalised to TCP_CSUM
        QDISC_DROP = 2.5

        [rpc]
        socket = "/run/x/agent.sock"
        group = ""
        max_frame_bytes = 65536
        max_clients = 8

        [metrics]
        listen = "[::1]:9100"

        [controller]
        url = "https://controller.example:8477"
        token_file = "/etc/edgenode/token"
        ca_file = "/etc/edgenode/ca.pem"
        push_interval = "10s"
        timeout = "1500ms"

        [shaping]
        enabled = false
        device = "eth1"
        horizon = "2s"
        ecn = false
        pin_path = "/sys/fs/bpf/other"
        """

    func testFullFile() throws {
        let c = try parse(Self.fullFile)
        XCTAssertEqual(c.agent.nodeName, "edge-7.example")
        XCTAssertEqual(c.agent.stateDir, "/srv/edge")
        XCTAssertEqual(c.telemetry.intervalSeconds, 0.5)
        XCTAssertEqual(c.telemetry.windowSeconds, 60)
        XCTAssertEqual(c.telemetry.maxPeers, 16)
        XCTAssertEqual(c.telemetry.netns, .all)
        XCTAssertEqual(c.telemetry.dropWeights, ["NO_SOCKET": 0, "TCP_CSUM": 3, "QDISC_DROP": 2.5])
        XCTAssertEqual(c.telemetry.defaultDropWeight, 0.5)
        XCTAssertEqual(c.rpc, RPCConfig(socket: "/run/x/agent.sock", group: nil, maxFrameBytes: 65536, maxClients: 8))
        XCTAssertEqual(c.metrics.listen, ListenAddress(host: "::1", port: 9100))
        XCTAssertEqual(c.controller.url, "https://controller.example:8477")
        XCTAssertEqual(c.controller.tokenFile, "/etc/edgenode/token")
        XCTAssertEqual(c.controller.caFile, "/etc/edgenode/ca.pem")
        XCTAssertEqual(c.controller.pushIntervalSeconds, 10)
        XCTAssertEqual(c.controller.timeoutSeconds, 1.5)
        XCTAssertEqual(c.shaping, AgentConfig.Shaping(enabled: false, device: "eth1", horizonSeconds: 2, ecn: false,
                                                      pinPath: "/sys/fs/bpf/other"))
    }

    func testRenderedTextParsesBackToTheSameConfig() throws {
        let full = try parse(Self.fullFile)
        XCTAssertEqual(try parse(full.tomlText), full)
        XCTAssertEqual(try parse(AgentConfig.defaults.tomlText), AgentConfig.defaults)
        var odd = AgentConfig.defaults
        odd.agent.stateDir = "/var/lib/with \"quotes\" and \\ backslash"
        odd.metrics.listen = nil
        odd.telemetry.intervalSeconds = 0.125
        XCTAssertEqual(try parse(odd.tomlText), odd)
    }

    func testLoadReadsAFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgecore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("agent.toml").path
        try Self.fullFile.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try AgentConfig.load(path: path), try parse(Self.fullFile))

        try "[telemetry]\nmax_peers = -1\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try AgentConfig.load(path: path)) {
            XCTAssertEqual("\($0)", "\(path): telemetry.max_peers: must be between 0 and 65536, got -1")
        }
        XCTAssertThrowsError(try AgentConfig.load(path: dir.appendingPathComponent("missing.toml").path)) {
            XCTAssertEqual("\($0)", "\(dir.path)/missing.toml: no such file")
        }
        XCTAssertThrowsError(try AgentConfig.load(path: dir.path)) {
            XCTAssertEqual("\($0)", "\(dir.path): is a directory, not a file")
        }
        try Data([0x5B, 0xFF, 0xFE, 0x5D]).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try AgentConfig.load(path: path)) {
            XCTAssertEqual("\($0)", "\(path): is not valid UTF-8 text")
        }
    }

    func testSyntaxErrorsGiveLineAndColumn() throws {
        do {
            _ = try parse("[telemetry]\ninterval = \"1s\"\nwindow = = 3\n")
            XCTFail("no error")
        } catch let e as ConfigError {
            XCTAssertEqual(e.file, Self.file)
            XCTAssertEqual(e.line, 3)
            XCTAssertNotNil(e.column)
            XCTAssertNil(e.key)
            XCTAssertTrue(e.description.hasPrefix("\(Self.file):3:\(e.column!): TOML syntax error: "), e.description)
        }
        XCTAssertTrue(error("[agent\n").hasPrefix("\(Self.file):1:"))
        XCTAssertTrue(error("[rpc]\nsocket = \"a\"\nsocket = \"b\"\n").hasPrefix("\(Self.file):3:"))
    }

    func testBadDurationMessage() {
        XCTAssertEqual(error("[telemetry]\ninterval = \"abc\""),
                       #"/etc/edgenode/agent.toml: telemetry.interval: expected a duration such as "1s" or "500ms", got "abc""#)
        XCTAssertEqual(error("[controller]\ntimeout = \"2\""),
                       #"/etc/edgenode/agent.toml: controller.timeout: expected a duration such as "1s" or "500ms", got "2""#)
    }

    func testWrongTypes() {
        XCTAssertEqual(error("[telemetry]\nmax_peers = \"256\""),
                       #"/etc/edgenode/agent.toml: telemetry.max_peers: expected an integer, got string "256""#)
        XCTAssertEqual(error("[telemetry]\nmax_peers = 2.5"),
                       "/etc/edgenode/agent.toml: telemetry.max_peers: expected an integer, got number 2.5")
        XCTAssertEqual(error("[telemetry]\ninterval = 1"),
                       "/etc/edgenode/agent.toml: telemetry.interval: expected a string, got integer 1")
        XCTAssertEqual(error("[shaping]\nenabled = \"yes\""),
                       #"/etc/edgenode/agent.toml: shaping.enabled: expected true or false, got string "yes""#)
        XCTAssertEqual(error("[telemetry]\ndefault_drop_weight = true"),
                       "/etc/edgenode/agent.toml: telemetry.default_drop_weight: expected a number, got true")
        XCTAssertEqual(error("[telemetry]\ndrop_weights = 3"),
                       "/etc/edgenode/agent.toml: telemetry.drop_weights: expected a table, got integer 3")
        XCTAssertEqual(error("telemetry = 5"),
                       "/etc/edgenode/agent.toml: telemetry: expected a section [telemetry], got integer 5")
        XCTAssertEqual(error("[agent]\nnode_name = 1979-05-27"),
                       "/etc/edgenode/agent.toml: agent.node_name: expected a string, got a date")
    }

    func testUnknownKeysAndSections() {
        XCTAssertEqual(error("[telemetry]\nintervall = \"1s\""),
                       "/etc/edgenode/agent.toml: telemetry.intervall: unknown key (known keys in [telemetry]: "
                       + "interval, window, max_peers, netns, drop_weights, default_drop_weight, cgroup)")
        XCTAssertEqual(error("[telemetri]\ninterval = \"1s\""),
                       "/etc/edgenode/agent.toml: telemetri: unknown section (known sections: "
                       + "agent, telemetry, rpc, metrics, controller, shaping)")
        XCTAssertEqual(error("node_name = \"x\""),
                       "/etc/edgenode/agent.toml: node_name: unknown section (known sections: "
                       + "agent, telemetry, rpc, metrics, controller, shaping)")
    }

    func testOutOfRangeValues() {
        XCTAssertEqual(error("[telemetry]\ninterval = \"50ms\""),
                       #"/etc/edgenode/agent.toml: telemetry.interval: must be between 100ms and 1m, got "50ms""#)
        XCTAssertEqual(error("[telemetry]\ninterval = \"5s\"\nwindow = \"2s\""),
                       #"/etc/edgenode/agent.toml: telemetry.window: must be between 5s and 1h, got "2s""#)
        XCTAssertEqual(error("[telemetry]\nwindow = \"2h\""),
                       #"/etc/edgenode/agent.toml: telemetry.window: must be between 1s and 1h, got "2h""#)
        XCTAssertEqual(error("[telemetry]\nnetns = \"host\""),
                       #"/etc/edgenode/agent.toml: telemetry.netns: expected "self" or "all", got "host""#)
        XCTAssertEqual(error("[telemetry]\ndefault_drop_weight = -1"),
                       "/etc/edgenode/agent.toml: telemetry.default_drop_weight: must be ≥ 0, got -1.0")
        XCTAssertEqual(error("[telemetry]\ndefault_drop_weight = nan"),
                       "/etc/edgenode/agent.toml: telemetry.default_drop_weight: must be a finite number, got nan")
        XCTAssertEqual(error("[rpc]\nmax_frame_bytes = 10"),
                       "/etc/edgenode/agent.toml: rpc.max_frame_bytes: must be between 1024 and 67108864, got 10")
        XCTAssertEqual(error("[rpc]\nmax_clients = 0"),
                       "/etc/edgenode/agent.toml: rpc.max_clients: must be between 1 and 65536, got 0")
        XCTAssertEqual(error("[controller]\npush_interval = \"1s\"\ntimeout = \"2s\""),
                       #"/etc/edgenode/agent.toml: controller.timeout: must not exceed controller.push_interval (1s), got "2s""#)
        XCTAssertEqual(error("[shaping]\nhorizon = \"0s\""),
                       #"/etc/edgenode/agent.toml: shaping.horizon: must be between 1ms and 1m, got "0s""#)
    }

    func testDropWeights() {
        XCTAssertEqual(error("[telemetry.drop_weights]\nNO_SOCKET = -2"),
                       "/etc/edgenode/agent.toml: telemetry.drop_weights.NO_SOCKET: must be ≥ 0, got -2.0")
        XCTAssertEqual(error("[telemetry.drop_weights]\nNO_SOCKET = \"high\""),
                       #"/etc/edgenode/agent.toml: telemetry.drop_weights.NO_SOCKET: expected a number, got string "high""#)
        XCTAssertEqual(error("[telemetry.drop_weights]\nCONSUMED = 1"),
                       "/etc/edgenode/agent.toml: telemetry.drop_weights.CONSUMED: CONSUMED is not a drop (consumed packets are never counted)")
        XCTAssertEqual(error("[telemetry.drop_weights]\nNO_SOCKET = 1\nSKB_DROP_REASON_NO_SOCKET = 2"),
                       "/etc/edgenode/agent.toml: telemetry.drop_weights.SKB_DROP_REASON_NO_SOCKET: reason NO_SOCKET is given twice")
        XCTAssertEqual(error("[telemetry.drop_weights]\n\"no socket\" = 1"),
                       "/etc/edgenode/agent.toml: telemetry.drop_weights.no socket: expected a drop reason name such as NO_SOCKET or TCP_CSUM")
    }

    func testAddressesPathsAndNames() throws {
        XCTAssertNil(try parse("[metrics]\nlisten = \"\"").metrics.listen)
        XCTAssertEqual(error("[metrics]\nlisten = \"localhost\""),
                       #"/etc/edgenode/agent.toml: metrics.listen: expected host:port such as "127.0.0.1:9464" or "[::1]:9464"; expected host:port, e.g. "127.0.0.1:9464", got "localhost""#)
        XCTAssertEqual(error("[metrics]\nlisten = \"::1:9464\""),
                       #"/etc/edgenode/agent.toml: metrics.listen: expected host:port such as "127.0.0.1:9464" or "[::1]:9464"; an IPv6 address must be written in brackets, e.g. "[::1]:9464", got "::1:9464""#)
        XCTAssertEqual(error("[rpc]\nsocket = \"agent.sock\""),
                       #"/etc/edgenode/agent.toml: rpc.socket: expected an absolute path (starting with "/"), got "agent.sock""#)
        XCTAssertEqual(error("[rpc]\nsocket = \"\""),
                       "/etc/edgenode/agent.toml: rpc.socket: must not be empty; expected an absolute path")
        let long = "/run/" + String(repeating: "s", count: 103)
        XCTAssertEqual(error("[rpc]\nsocket = \"\(long)\""),
                       "/etc/edgenode/agent.toml: rpc.socket: path is 108 bytes long, at most 107 are allowed")
        XCTAssertEqual(error("[rpc]\ngroup = \"edge node\""),
                       #"/etc/edgenode/agent.toml: rpc.group: expected a group name (letters, digits, "_", "-", "."; at most 32), got "edge node""#)
        XCTAssertEqual(error("[controller]\nurl = \"controller:8477\""),
                       #"/etc/edgenode/agent.toml: controller.url: expected an http:// or https:// URL such as "https://controller:8477", got "controller:8477""#)
        XCTAssertEqual(error("[controller]\ntoken_file = \"token\""),
                       #"/etc/edgenode/agent.toml: controller.token_file: expected an absolute path (starting with "/"), got "token""#)
        XCTAssertEqual(error("[shaping]\ndevice = \"a-very-long-ifname\""),
                       #"/etc/edgenode/agent.toml: shaping.device: expected a network interface name (1 to 15 characters, no "/", ":" or spaces), got "a-very-long-ifname""#)
        XCTAssertEqual(error("[agent]\nnode_name = \"node_1\""),
                       #"/etc/edgenode/agent.toml: agent.node_name: expected a host-name-like node name (letters, digits, "-", "."), got "node_1""#)
        XCTAssertEqual(try parse("[controller]\nurl = \"http://127.0.0.1:8477\"").controller.url, "http://127.0.0.1:8477")
    }
}
