// edgectl doctor: is this node ready for edgenode, and is the agent doing its job?
//
// The kernel probes load BPF and make a throwaway network namespace, which needs libbpf and
// libmnl. edgectl stays plain Swift over the sockets (its package has no C dependencies), so it
// runs `edge-agent --doctor --json` (the agent's own loading code, as root) and adds what only
// a client can see: whether the agent answers and what it has attached.
import ArgumentParser
import EdgeAPI
import EdgeCore
import EdgeRPC
import Foundation

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what edgenode needs on this node and what the running agent has attached.",
        discussion: """
            One line per check: OK, DEGRADED or MISSING, with what depends on it and how to get it.
            Exit status: 0 all OK, 1 something DEGRADED, 2 something MISSING. The kernel probes run
            as `edge-agent --doctor` (root).
            """)

    @OptionGroup var agent: AgentSocketOptions
    @Option(help: "The edge-agent binary that runs the kernel probes (default: next to edgectl, else /usr/sbin/edge-agent).")
    var agentBinary: String?
    @Option(help: "The agent's configuration, for [shaping] pin_path (default: edge-agent's own default).")
    var config: String?
    @Flag(help: "Skip the running-agent check (before an install).")
    var noAgent = false
    @Flag(help: "Print the report as JSON.")
    var json = false

    func run() throws {
        var report = probeKernel()
        if !noAgent { report.checks.append(runningAgent()) }
        if json { try printJSON(report) } else { print(report.rendered()) }
        if report.status != .ok { throw ExitCode(report.status.exitCode) }
    }

    /// The edge-agent binary: --agent-binary, else beside this edgectl, else the package's.
    func agentPath() -> String? {
        if let agentBinary { return agentBinary }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let beside = me.deletingLastPathComponent().appendingPathComponent("edge-agent").path
        for p in [beside, "/usr/sbin/edge-agent"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    func probeKernel() -> DoctorReport {
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
        let needed = "every kernel check (BTF, hooks, qdiscs, bpffs, capabilities, cgroups)"
        guard let path = agentPath() else {
            return DoctorReport(kernel: kernel, checks: [DoctorCheck(
                "kernel probes", .missing, detail: "no edge-agent binary beside edgectl or at /usr/sbin/edge-agent",
                neededBy: needed, fix: "install the edge-agent package, or pass --agent-binary")])
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--doctor", "--json"] + (config.map { ["--config", $0] } ?? [])
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do {
            try p.run()
        } catch {
            return DoctorReport(kernel: kernel, checks: [DoctorCheck(
                "kernel probes", .missing, detail: "cannot run \(path) --doctor: \(error)", neededBy: needed,
                fix: "check --agent-binary")])
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        if let report = try? EdgeJSON.decoder().decode(DoctorReport.self, from: stdout) { return report }
        let why = stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(p.terminationStatus)"
        return DoctorReport(kernel: kernel, checks: [DoctorCheck(
            "kernel probes", .missing, detail: "\(path) --doctor gave no report: \(why)", neededBy: needed,
            fix: getuid() == 0 ? "see edge-agent --doctor's own output" : "run edgectl doctor as root")])
    }

    func runningAgent() -> DoctorCheck {
        let name = "agent"
        let needed = "telemetry, shaping, reports to the controller"
        let status: AgentStatus
        do {
            status = try agent.client().call(AgentMethod.status)
        } catch {
            let absent = !FileManager.default.fileExists(atPath: agent.socket)
            return DoctorCheck(name, .degraded,
                               detail: absent ? "not running: no socket at \(agent.socket) (fine before an install)" : "not answering on \(agent.socket): \(error)",
                               neededBy: needed, fix: "systemctl start edge-agent; journalctl -u edge-agent says why it stopped")
        }
        let t = status.telemetry
        var detail = "running (pid \(status.pid), \(status.version)); attached: \(t.attached.joined(separator: ", ")); shaping: \(status.shaping)"
        for m in t.missing { detail += "; \(m.summary)" }
        let degraded = !t.missing.isEmpty || status.shaping.hasPrefix("degraded") || status.shaping.hasPrefix("failed")
        return DoctorCheck(name, degraded ? .degraded : .ok, detail: detail, neededBy: needed,
                           fix: "see the lines above for what the kernel lacks")
    }
}
