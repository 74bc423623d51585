// One doctor line per telemetry hook: its preferred program loaded alone by the real kernel,
// and where that is refused, its older variant (TelemetryProgram.all, edge_compat.bpf.h).
import EdgeAPI
import EdgeBPF

enum TelemetryChecks {
    static func consumers(of signal: String) -> String {
        switch signal {
        case "rtt": return "signal rtt (RTT p50/p99, per-peer RTT, the score's rtt_p99)"
        case "retransmits": return "signal retransmits (kernel count; /proc/net/snmp still gives the rate)"
        case "drops": return "signal drops (weighted drop rate by reason in the score)"
        case "runqlat": return "signal runqlat (run-queue latency p99 in the score)"
        default: return "signal \(signal)"
        }
    }

    static func hooks() -> [DoctorCheck] {
        let open = { try BPFObject(embedded: "telemetry") }
        return TelemetryProgram.primaries.map { p in
            let name = "hook \(p.hook) (\(p.name))"
            let needed = consumers(of: p.signal)
            guard let why = BPFProbe.refusal(of: p.name, open: open) else {
                return DoctorCheck(name, .ok, detail: "\(p.name) loads and verifies (reads \(p.arguments) tracepoint arguments)", neededBy: needed)
            }
            let fixHook = "a kernel \(p.since)+ with the \(p.tracepoint) tracepoint and CONFIG_DEBUG_INFO_BTF=y (edge-agent(8) KERNEL VERSIONS)"
            if let f = p.fallback.flatMap(TelemetryProgram.named) {
                if let whyF = BPFProbe.refusal(of: f.name, open: open) {
                    return DoctorCheck(name, .missing, detail: "\(p.name) refused: \(why); \(f.name) refused too: \(whyF)",
                                       neededBy: needed, fix: fixHook)
                }
                return DoctorCheck(name, .degraded,
                                   detail: "\(p.name) refused: \(why); \(f.name) loads instead, without \(p.fallbackLoses ?? "some detail")",
                                   neededBy: needed, fix: "kernel \(p.since)+ (bpf/edge_compat.bpf.h)")
            }
            return DoctorCheck(name, .missing, detail: "\(p.name) refused: \(why)", neededBy: needed, fix: fixHook)
        }
    }
}
