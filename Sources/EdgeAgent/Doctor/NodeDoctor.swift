// `edge-agent --doctor`: every check of what edgenode needs on this node, run with the agent's
// own code (the telemetry programs, the EDT program, netlink), so the doctor and the agent
// cannot disagree. `edgectl doctor` runs this and adds what the running agent reports.
import EdgeAPI
import EdgeBPF
import EdgeConfig
import Foundation

public enum NodeDoctor {
    /// Runs every probe. Needs root: it loads BPF and makes a throwaway network namespace.
    public static func run(config: AgentConfig) -> DoctorReport {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        BPFLog.capture()

        var checks = [KernelVersionTable.check(release: release), HostChecks.btf()]
        if BPFSystem.hasKernelBTF { checks += TelemetryChecks.hooks() }

        let edtNeeded = "shaping (the EDT classifier: per-class rates and departure times)"
        var edt: EDTDatapath?
        do {
            edt = try EDTDatapath(pinDirectory: nil)
            checks.append(DoctorCheck("EDT program (edt_egress)", .ok, detail: "loads and verifies", neededBy: edtNeeded))
        } catch let e as BPFError {
            checks.append(DoctorCheck("EDT program (edt_egress)", .missing, detail: e.verdict, neededBy: edtNeeded,
                                      fix: e.hint ?? "a kernel with BTF and tc BPF (CONFIG_NET_CLS_BPF, CONFIG_BPF_SYSCALL)"))
        } catch {
            checks.append(DoctorCheck("EDT program (edt_egress)", .missing, detail: "\(error)", neededBy: edtNeeded,
                                      fix: "a kernel with BTF and tc BPF"))
        }
        checks += QdiscProbe.run(edtProgramFD: edt?.program.fd)
        withExtendedLifetime(edt) {}

        checks.append(HostChecks.bpffs(pinPath: config.shaping.pinPath))
        checks.append(HostChecks.capabilities())
        checks.append(HostChecks.cgroupLayout(mounts: try? MountTable.current()))
        return DoctorReport(kernel: release, checks: checks)
    }
}
