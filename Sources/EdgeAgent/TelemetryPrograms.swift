// The programs of bpf/telemetry.bpf.c, what each needs from the kernel, and which of them this
// kernel gets. The versions are the ones bpf/edge_compat.bpf.h documents; edge-agent(8) lists
// what works on 5.15, 5.17 and 5.18+. `edgectl doctor` probes the same table.
import EdgeAPI
import EdgeBPF

public struct TelemetryProgram: Sendable, Equatable {
    public let name: String
    /// The tp_btf hook.
    public let tracepoint: String
    /// The signal it feeds (telemetry.get's names).
    public let signal: String
    /// Tracepoint arguments it reads: a kernel that passes fewer refuses it at load.
    public let arguments: Int
    /// The first kernel that passes them (edge_compat.bpf.h).
    public let since: String
    /// The older variant that takes over where this one is refused, and what it cannot measure.
    public let fallback: String?
    public let fallbackLoses: String?

    public var hook: String { "tp_btf/\(tracepoint)" }

    init(_ name: String, _ tracepoint: String, _ signal: String, arguments: Int, since: String,
         fallback: String? = nil, loses: String? = nil) {
        self.name = name
        self.tracepoint = tracepoint
        self.signal = signal
        self.arguments = arguments
        self.since = since
        self.fallback = fallback
        self.fallbackLoses = loses
    }

    /// Every program, preferred variants first; a fallback is loaded only in its primary's place.
    public static let all: [TelemetryProgram] = [
        .init("edge_tcp_probe", "tcp_probe", "rtt", arguments: 2, since: "4.16"),
        .init("edge_tcp_retransmit", "tcp_retransmit_skb", "retransmits", arguments: 2, since: "4.15"),
        .init("edge_kfree_skb", "kfree_skb", "drops", arguments: 3, since: "5.17",
              fallback: "edge_kfree_skb_pre517", loses: "drop reasons (every drop counted as UNREPORTED)"),
        .init("edge_kfree_skb_pre517", "kfree_skb", "drops", arguments: 2, since: "4.15"),
        .init("edge_sched_wakeup", "sched_wakeup", "runqlat", arguments: 1, since: "5.11"),
        .init("edge_sched_wakeup_new", "sched_wakeup_new", "runqlat", arguments: 1, since: "5.11"),
        .init("edge_sched_switch", "sched_switch", "runqlat", arguments: 4, since: "5.18",
              fallback: "edge_sched_switch_pre518", loses: "the scheduler's own prev_state (read from the task instead)"),
        .init("edge_sched_switch_pre518", "sched_switch", "runqlat", arguments: 3, since: "5.11"),
    ]

    public static func named(_ name: String) -> TelemetryProgram? { all.first { $0.name == name } }

    /// The programs loaded in a primary's place, never on their own.
    public static var fallbacks: Set<String> { Set(all.compactMap(\.fallback)) }
    public static var primaries: [TelemetryProgram] { all.filter { !fallbacks.contains($0.name) } }

    /// Why this kernel's BTF says the program cannot load (nil: it may, a load decides).
    public func btfObjection() -> String? {
        guard let passed = BPFSystem.tracepointArguments(tracepoint) else {
            return "kernel BTF has no btf_trace_\(tracepoint) (no such tracepoint in this kernel)"
        }
        if passed < arguments {
            return "tracepoint \(tracepoint) passes \(passed) arguments, the program reads \(arguments) (kernel \(since)+)"
        }
        return nil
    }
}

/// Which telemetry programs to load on this kernel and which are off, with reasons.
public struct TelemetryPlan: Sendable, Equatable {
    public var load: [String] = []
    public var off: [MissingHook] = []

    public init() {}

    /// From kernel BTF alone: each primary whose hook passes the arguments it reads, else its
    /// fallback. A load then confirms (see KernelTelemetry.init).
    public static func fromBTF() -> TelemetryPlan {
        var plan = TelemetryPlan()
        for p in TelemetryProgram.primaries {
            plan.choose(p, objection: p.btfObjection()) { $0.btfObjection() }
        }
        return plan
    }

    /// Puts `p` in the plan, or, when `objection` is set, its fallback if `fallbackObjection` has
    /// nothing against it.
    public mutating func choose(_ p: TelemetryProgram, objection: String?,
                         fallbackObjection: (TelemetryProgram) -> String?) {
        guard let objection else { load.append(p.name); return }
        if let f = p.fallback.flatMap(TelemetryProgram.named) {
            if let fo = fallbackObjection(f) {
                off.append(MissingHook(program: p.name, hook: p.hook, signal: p.signal, reason: objection))
                off.append(MissingHook(program: f.name, hook: f.hook, signal: f.signal, reason: fo))
            } else {
                load.append(f.name)
                off.append(MissingHook(program: p.name, hook: p.hook, signal: p.signal, reason: objection,
                                       fallback: f.name, loses: p.fallbackLoses))
            }
            return
        }
        off.append(MissingHook(program: p.name, hook: p.hook, signal: p.signal, reason: objection))
    }

    /// Replaces the programs a real load refused by their fallbacks (probed by `refusal`).
    mutating func apply(refused: [BPFRefusal], refusal: (String) -> String?) {
        for r in refused {
            load.removeAll { $0 == r.program }
            guard let p = TelemetryProgram.named(r.program) else { continue }
            if TelemetryProgram.fallbacks.contains(p.name) {
                off.append(MissingHook(program: p.name, hook: p.hook, signal: p.signal, reason: r.reason))
                continue
            }
            choose(p, objection: r.reason) { f in refusal(f.name) }
        }
    }
}
