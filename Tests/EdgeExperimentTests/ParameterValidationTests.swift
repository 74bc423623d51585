// Command-line validation of the runner and its pieces: every bad value is refused with a message
// naming the option and the value; good values parse to what was meant.
import ArgumentParser
@testable import edge_experiment
import Foundation
import XCTest

final class ParameterValidationTests: XCTestCase {
    /// The message `edge-experiment` would print for `args`, or nil when they are accepted.
    private func refusal<C: ParsableCommand>(_ type: C.Type, _ args: [String]) -> String? {
        do { _ = try type.parse(args); return nil } catch { return type.message(for: error) }
    }

    private func assertRefused<C: ParsableCommand>(_ type: C.Type, _ args: [String], _ expected: String,
                                                   file: StaticString = #filePath, line: UInt = #line) {
        guard let message = refusal(type, args) else { return XCTFail("\(args) accepted", file: file, line: line) }
        XCTAssertTrue(message.contains(expected), "\(args): '\(message)' does not say '\(expected)'", file: file, line: line)
    }

    func testRunRefusesOutOfRangeParameters() {
        assertRefused(RunCommand.self, ["--nodes", "1"], "--nodes must be in 2…32, got 1")
        assertRefused(RunCommand.self, ["--nodes", "3", "--degraded-node", "4"], "--degraded-node must be in 1…3, got 4")
        assertRefused(RunCommand.self, ["--reps", "0"], "--reps must be in 1…100, got 0")
        assertRefused(RunCommand.self, ["--duration", "1.5"], "--duration must be in [2, 3600] s, got 1.5")
        assertRefused(RunCommand.self, ["--cooldown", "601"], "--warmup and --cooldown must be in [0, 600] s")
        assertRefused(RunCommand.self, ["--replicas", "65"], "--replicas must be in 1…64, got 65")
        assertRefused(RunCommand.self, ["--extender-weight", "0"], "--extender-weight must be in (0, 100], got 0.0")
        assertRefused(RunCommand.self, ["--outage-period", "0.5"], "--outage-period must be in [1, 600] s")
        assertRefused(RunCommand.self, ["--stress-workers", "17"], "--stress-workers must be in 1…16")
        assertRefused(RunCommand.self, ["--vm-node", "10.0.0.2:2231"], "a VM bed (--vm-node) needs --vm-netns, --vm-ssh-key and --vm-controller-address")
        assertRefused(RunCommand.self, ["--vm-netns", "bed"], "--vm-netns, --vm-ssh-key and --vm-controller-address need --vm-node")
        let vm = ["--vm-netns", "bed", "--vm-ssh-key", "/k", "--vm-controller-address", "198.18.0.1", "--nodes", "2"]
        assertRefused(RunCommand.self, vm + ["--vm-node", "198.18.0.11:2231"], "--nodes is 2 but 1 --vm-node given")
        assertRefused(RunCommand.self, vm + ["--vm-node", "198.18.0.11", "--vm-node", "198.18.0.12:2232"], "--vm-node '198.18.0.11': expected IPV4:SSH_PORT")
        assertRefused(RunCommand.self, vm + ["--vm-node", "198.18.0.11:2231", "--vm-node", "198.18.0.11:2232"], "--vm-node addresses must be distinct")
        assertRefused(RunCommand.self, ["--http-timeout", "0"], "--http-timeout must be in [0.05, 60] s, got 0.0")
        assertRefused(PlaceCommand.self, ["--policy", "extender", "--node", "a", "--http-timeout", "61"], "--http-timeout must be in [0.05, 60] s, got 61.0")
    }

    func testRunRefusesBadScenarioAndRateLists() {
        assertRefused(RunCommand.self, ["--scenarios", "S1,S9"], "--scenarios: unknown scenario 'S9' (known: S1, S2, S3, S4, S5)")
        assertRefused(RunCommand.self, ["--scenarios", "s2, S2"], "--scenarios: S2 is given more than once")
        assertRefused(RunCommand.self, ["--scenarios", ""], "no scenarios or rates given")
        assertRefused(RunCommand.self, ["--rps", "100,0"], "--rps: '0' is not a rate in (0, 20000]")
        assertRefused(RunCommand.self, ["--rps", "100,fast"], "--rps: 'fast' is not a rate in (0, 20000]")
        assertRefused(RunCommand.self, ["--rps", "20001"], "--rps: '20001' is not a rate in (0, 20000]")
        assertRefused(RunCommand.self, ["--rps", "500,500"], "--rps: 500 is given more than once")
    }

    func testRunNamesMissingFiles() throws {
        assertRefused(RunCommand.self, ["--bin", "/nonexistent-edge"], "--bin: /nonexistent-edge/edge-agent is not an executable")
        let dir = try makeExperimentFiles(withLossObject: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        assertRefused(RunCommand.self, arguments(dir), "--loss-object: \(dir)/loss.bpf.o does not exist (make bpf builds it)")
    }

    func testRunAcceptsGoodParametersInTheirOrder() throws {
        let dir = try makeExperimentFiles(withLossObject: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = arguments(dir) + ["--scenarios", "s4, S2", "--rps", "250.5,100", "--nodes", "3", "--degraded-node", "3"]
        guard getuid() == 0 else {
            // parameters and files are checked before root, so the only refusal left is root
            return assertRefused(RunCommand.self, args, "edge-experiment run needs root")
        }
        let cmd = try RunCommand.parse(args)
        XCTAssertEqual(try cmd.parsedScenarios(), [.S4, .S2])
        XCTAssertEqual(try cmd.parsedRates(), [250.5, 100])
    }

    func testLoadRefusesBadTargetsAndRanges() {
        let good = ["--replica", "node-1@198.18.101.2:7000", "--rps", "10", "--seconds", "1"]
        XCTAssertNil(refusal(LoadCommand.self, good))
        assertRefused(LoadCommand.self, ["--rps", "10", "--seconds", "1"], "give at least one --replica")
        assertRefused(LoadCommand.self, good + ["--connections", "257"], "--connections must be in 1…256, got 257")
        assertRefused(LoadCommand.self, good + ["--timeout", "61"], "--timeout must be in (0, 60], got 61.0")
        assertRefused(LoadCommand.self, ["--replica", "@198.18.101.2:7000", "--rps", "10", "--seconds", "1"],
                      "--replica '@198.18.101.2:7000': expected NODE@IPV4:PORT, e.g. node-1@198.18.101.2:7000")
        assertRefused(LoadCommand.self, good + ["--probe", "node-2@host.example:6999"],
                      "--probe 'node-2@host.example:6999': expected NODE@IPV4:PORT with a node name and a dotted IPv4 address")
        assertRefused(LoadCommand.self, good + ["--probe", "node-2@198.18..2:6999"],
                      "--probe 'node-2@198.18..2:6999': expected NODE@IPV4:PORT with a node name and a dotted IPv4 address")
        assertRefused(LoadCommand.self, good + ["--probe", "node-2@198.18.102.2"],
                      "--probe 'node-2@198.18.102.2': expected NODE@IPV4:PORT, e.g. node-1@198.18.101.2:7000")
        assertRefused(LoadCommand.self, good + ["--probe", "node-2@198.18.102.2:0"],
                      "--probe 'node-2@198.18.102.2:0': expected NODE@IPV4:PORT")
    }

    func testLoadTargetParsesAndPrintsBack() throws {
        let t = try LoadTarget(kind: "replica", parsing: "node-1@198.18.101.2:7003")
        XCTAssertEqual([t.kind, t.node, t.host], ["replica", "node-1", "198.18.101.2"])
        XCTAssertEqual(t.port, 7003)
        XCTAssertEqual(t.argument, "node-1@198.18.101.2:7003")
    }

    func testPlaceAndWatchRefuseBadNodeLists() {
        assertRefused(PlaceCommand.self, ["--policy", "spread"], "give at least one --node")
        assertRefused(PlaceCommand.self, ["--policy", "spread", "--node", "a", "--node", "a"], "--node names must be distinct")
        assertRefused(PlaceCommand.self, ["--policy", "spread", "--node", "a", "--replicas", "0"], "--replicas must be in 1…1000, got 0")
        assertRefused(PlaceCommand.self, ["--policy", "random", "--node", "a"], "random")
        assertRefused(WatchCommand.self, ["--node", "a", "--seconds", "10", "--interval", "0.05", "--out", "/tmp/x.csv"],
                      "--interval must be in [0.1, 60], got 0.05")
    }

    /// A directory laid out as the runner expects, with stand-in binaries (validation only checks
    /// that they exist and are executable; nothing is run).
    private func makeExperimentFiles(withLossObject: Bool) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edge-experiment-args-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for exe in ["edge-agent", "edge-controller"] {
            FileManager.default.createFile(atPath: "\(dir)/\(exe)", contents: Data("#!/bin/sh\nexit 1\n".utf8),
                                           attributes: [.posixPermissions: 0o755])
        }
        for f in ["agent.toml", "controller.toml", "cpu_load.py"] + (withLossObject ? ["loss.bpf.o"] : []) {
            FileManager.default.createFile(atPath: "\(dir)/\(f)", contents: Data())
        }
        return dir
    }

    private func arguments(_ dir: String) -> [String] {
        ["--bin", dir, "--experiments", dir, "--loss-object", "\(dir)/loss.bpf.o", "--cpu-script", "\(dir)/cpu_load.py"]
    }
}
