// A real edge-agent in a network namespace made for the test, for the operator commands
// (edgectl doctor, edgectl smoke): 200 ms ticks, no shaping, no /metrics.
import EdgeTestSupport
import Foundation
import XCTest

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

final class OperatorAgentFixture {
    let dir: URL
    let ns: ScratchNetns
    let agent: DaemonProcess
    var socket: String { dir.appendingPathComponent("agent.sock").path }

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-op-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let config = """
        [agent]
        node_name = "op-node"
        state_dir = "\(dir.path)/state"
        [telemetry]
        interval = "200ms"
        window = "10s"
        [rpc]
        socket = "\(dir.appendingPathComponent("agent.sock").path)"
        group = ""
        [metrics]
        listen = ""
        [shaping]
        enabled = false
        """
        try config.write(to: dir.appendingPathComponent("agent.toml"), atomically: true, encoding: .utf8)
        ns = try ScratchNetns(prefix: "edgeop")
        agent = try DaemonProcess(try Products.path("edge-agent"),
                                  ["--config", dir.appendingPathComponent("agent.toml").path], netns: ns.name)
        let path = dir.appendingPathComponent("agent.sock").path
        guard agent.waitUntil(timeout: 30, { FileManager.default.fileExists(atPath: path) }) else {
            throw FixtureError(description: "agent did not open its socket:\n\(agent.log)")
        }
    }

    deinit {
        agent.stop()
        try? FileManager.default.removeItem(at: dir)
    }
}
