// The doctor's traffic-control probes: mq, sch_fq, clsact and cls_bpf, each tried for real on
// a 2-queue veth pair in a throwaway network namespace (unshare), so the host's devices are
// never touched and nothing is left behind (the namespace dies with the probe's thread).
import EdgeAPI
import EdgeBPF
import EdgeNetlink
import Glibc

enum QdiscProbe {
    static let shaping = "shaping"

    /// - Parameter edtProgramFD: the loaded EDT program to attach with cls_bpf (nil: it did not load).
    static func run(edtProgramFD: Int32?) -> [DoctorCheck] {
        do {
            return try NetworkNamespace.runInThrowawayNamespace { try probe(edtProgramFD: edtProgramFD) }
        } catch {
            let detail = "not probed: \(error)"
            let fix = "run the doctor as root (it needs CAP_SYS_ADMIN for a throwaway network namespace)"
            return ["mq", "sch_fq", "clsact", "cls_bpf"].map {
                DoctorCheck($0, .degraded, detail: detail, neededBy: shaping, fix: fix)
            }
        }
    }

    private static func probe(edtProgramFD: Int32?) throws -> [DoctorCheck] {
        let nl = try NetlinkSocket()
        var checks: [DoctorCheck] = []
        var device: NetworkDevice = "lo"
        var mqOK = false
        let mqNeeded = "shaping: one fq per TX queue under mq on multi-queue devices (single-queue devices get one root fq)"
        do {
            try nl.addVethPair("edgeprobe0", peer: "edgeprobe1", queues: 2)
            device = "edgeprobe0"
        } catch {
            checks.append(DoctorCheck("mq", .degraded, detail: "not probed: no 2-queue veth pair (\(error))", neededBy: mqNeeded,
                                      fix: "CONFIG_VETH (only the probe needs it); mq comes with CONFIG_NET_SCHED"))
        }
        if device == "edgeprobe0" {
            do {
                try nl.replaceQdisc(.mq, on: device, parent: .root, handle: .qdisc(1))
                mqOK = true
                checks.append(DoctorCheck("mq", .ok, detail: "root mq on a 2-queue veth", neededBy: mqNeeded))
            } catch {
                checks.append(DoctorCheck("mq", .degraded, detail: "\(error); shaping falls back to one root fq",
                                          neededBy: mqNeeded, fix: "CONFIG_NET_SCHED=y (sch_mq is built with it)"))
            }
        }

        do {
            let parent = mqOK ? TCHandle(major: 1, minor: 1) : .root
            try nl.addQdisc(.fq(FQOptions()), on: device, parent: parent, handle: .qdisc(10))
            checks.append(DoctorCheck("sch_fq", .ok, detail: "fq accepted on \(device)", neededBy: "shaping: EDT pacing (fq honours skb->tstamp)"))
        } catch {
            let unknown = (error as? NetlinkError)?.isUnknownKind == true
            checks.append(DoctorCheck(
                "sch_fq", .degraded,
                detail: (unknown ? "the kernel has no sch_fq: " : "") + "\(error); shaping polices rates by dropping instead of pacing them (agent status: degraded (sch_fq unavailable …))",
                neededBy: "shaping: EDT pacing (fq honours skb->tstamp)",
                fix: "modprobe sch_fq; kernel option CONFIG_NET_SCH_FQ=m or y (Debian's linux-image packages ship it as a module)"))
        }

        var clsactOK = false
        do {
            try nl.ensureClsact(on: device)
            clsactOK = true
            checks.append(DoctorCheck("clsact", .ok, detail: "clsact accepted on \(device)", neededBy: "shaping: the egress hook the EDT program sits on"))
        } catch {
            checks.append(DoctorCheck("clsact", .missing, detail: "\(error)", neededBy: "shaping: the egress hook the EDT program sits on",
                                      fix: "kernel option CONFIG_NET_SCH_INGRESS=m or y (modprobe sch_ingress)"))
        }

        let clsNeeded = "shaping: the EDT program stamps departure times as a direct-action cls_bpf filter"
        if !clsactOK {
            checks.append(DoctorCheck("cls_bpf", .missing, detail: "not probed: no clsact hook to attach to", neededBy: clsNeeded,
                                      fix: "CONFIG_NET_SCH_INGRESS and CONFIG_NET_CLS_BPF"))
        } else if let fd = edtProgramFD {
            do {
                try nl.addBPFFilter(BPFFilterSpec(programFD: fd, name: "edt_egress"), on: device, hook: .egress)
                checks.append(DoctorCheck("cls_bpf", .ok, detail: "edt_egress attached as a direct-action filter on \(device) egress", neededBy: clsNeeded))
            } catch {
                checks.append(DoctorCheck("cls_bpf", .missing, detail: "\(error)", neededBy: clsNeeded,
                                          fix: "kernel option CONFIG_NET_CLS_BPF=m or y (modprobe cls_bpf)"))
            }
        } else {
            checks.append(DoctorCheck("cls_bpf", .missing, detail: "not probed: the EDT program did not load (see its line)",
                                      neededBy: clsNeeded, fix: "fix the EDT program's line first"))
        }
        return checks
    }
}
