// The doctor's checks of the host itself: BTF, bpffs, capabilities, the cgroup layout.
import EdgeAPI
import EdgeBPF
import Foundation

enum HostChecks {
    static func btf() -> DoctorCheck {
        let path = "/sys/kernel/btf/vmlinux"
        let needed = "all telemetry (CO-RE relocations) and the agent's start"
        guard BPFSystem.hasKernelBTF else {
            return DoctorCheck("BTF", .missing, detail: "\(path) absent or unreadable", neededBy: needed,
                               fix: "a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's kernels have it since 5.10)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        return DoctorCheck("BTF", .ok, detail: "\(path) (\(size / 1024) KiB)", neededBy: needed)
    }

    static func bpffs(pinPath: String) -> DoctorCheck {
        let needed = "shaping: the EDT program and maps are pinned under [shaping] pin_path (\(pinPath)) so a restart keeps the classes"
        let mount = BPFFS.defaultMount
        if BPFFS.isBPFFS(mount) {
            return DoctorCheck("bpffs", .ok, detail: "\(mount) is a bpf filesystem", neededBy: needed)
        }
        return DoctorCheck("bpffs", .missing, detail: "\(mount) is not a bpf filesystem", neededBy: needed,
                           fix: "mount -t bpf bpf /sys/fs/bpf (systemd mounts it at boot; CONFIG_BPF_SYSCALL=y)")
    }

    /// The capabilities edge-agent.service grants (CapabilityBoundingSet), by bit number.
    static let agentCapabilities: [(name: String, bit: Int, why: String)] = [
        ("CAP_BPF", 39, "load BPF programs and maps"),
        ("CAP_PERFMON", 38, "attach the tp_btf tracing programs"),
        ("CAP_NET_ADMIN", 12, "qdiscs and tc filters"),
        ("CAP_CHOWN", 0, "hand the RPC socket to its group"),
    ]

    static func capabilities(status: String? = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
                             lastCap: String? = try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8)) -> DoctorCheck {
        let needed = "the agent (edge-agent.service grants CAP_BPF CAP_PERFMON CAP_NET_ADMIN CAP_CHOWN) and these probes"
        let last = lastCap.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        if last < 39 {
            return DoctorCheck("capabilities", .missing, detail: "the kernel has no CAP_BPF/CAP_PERFMON (cap_last_cap \(last); they came in 5.8)",
                               neededBy: needed, fix: "a kernel 5.8 or newer (the unit's least-privilege set relies on CAP_BPF)")
        }
        let effLine = status?.split(separator: "\n").first { $0.hasPrefix("CapEff:") }
        let eff = effLine.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) } ?? 0
        let lacking = agentCapabilities.filter { eff & (1 << UInt64($0.bit)) == 0 }
        if lacking.isEmpty {
            return DoctorCheck("capabilities", .ok, detail: "kernel knows CAP_BPF and CAP_PERFMON; this process has " +
                               agentCapabilities.map(\.name).joined(separator: " "), neededBy: needed)
        }
        return DoctorCheck("capabilities", .missing,
                           detail: "this process lacks " + lacking.map { "\($0.name) (\($0.why))" }.joined(separator: ", "),
                           neededBy: needed, fix: "run the doctor as root; the agent gets them from AmbientCapabilities= in its unit")
    }

    static func cgroupLayout(mounts: MountTable?) -> DoctorCheck {
        let needed = "shaping classes by cgroup or systemd unit (the EDT program matches bpf_skb_cgroup_id, a cgroup2 id); prefix classes work anyway"
        let fix = "boot with systemd.unified_cgroup_hierarchy=1 (the default since systemd 247, Debian 11)"
        guard let mounts else {
            return DoctorCheck("cgroup layout", .degraded, detail: "cannot read /proc/self/mountinfo", neededBy: needed, fix: fix)
        }
        let root = mounts.mount(containing: "/sys/fs/cgroup")
        if root?.mountPoint == "/sys/fs/cgroup", root?.fsType == "cgroup2" {
            return DoctorCheck("cgroup layout", .ok, detail: "v2 (unified): /sys/fs/cgroup is cgroup2", neededBy: needed)
        }
        if let unified = mounts.mountPoints(ofType: "cgroup2").first {
            return DoctorCheck("cgroup layout", .degraded,
                               detail: "hybrid: cgroup2 only at \(unified); cgroup selectors must name paths there and systemd unit selectors may not resolve",
                               neededBy: needed, fix: fix)
        }
        return DoctorCheck("cgroup layout", .degraded, detail: "v1 only: no cgroup2 mount, so cgroup and unit selectors are refused",
                           neededBy: needed, fix: fix)
    }
}
