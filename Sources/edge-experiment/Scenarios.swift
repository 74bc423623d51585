// The faults the experiment puts on one node, each applied for the whole warm-up + run and removed
// afterwards. Every one of them is a real kernel effect on real traffic:
//   S1 delay 20 ms ± 5 ms  netem on the node's client link (only where sch_netem exists)
//   S2 2% loss             bpf/loss.bpf.c, cls_bpf on clsact egress of the node's client link
//   S3 50 Mbit/s           tbf on the node's client link
//   S4 CPU pressure        busy processes in the node's cgroup, with its servers (its CPU allowance);
//                          without node cgroups, pinned with the node's servers to the last CPU
//   S5 outage              both of the node's links down/up, half a period each
import ArgumentParser
import EdgeLab
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum ScenarioID: String, CaseIterable, ExpressibleByArgument {
    case S1, S2, S3, S4, S5

    var summary: String {
        switch self {
        case .S1: return "delay 20ms±5ms (netem)"
        case .S2: return "2% packet loss (tc BPF)"
        case .S3: return "50 Mbit/s cap (tbf)"
        case .S4: return "CPU pressure (busy loops)"
        case .S5: return "intermittent outage (links down/up)"
        }
    }
}

struct ScenarioSettings {
    var lossObject: String
    var cpuScript: String
    var stressWorkers: Int
    /// Seconds of one down + up cycle in S5.
    var outagePeriod: Double
}

/// One applied fault; `remove()` undoes it (idempotent).
final class ActiveScenario {
    private var undo: [() -> Void] = []
    private var removed = false

    /// Applies `id` to node `i` of `bed` for about `seconds`.
    init(_ id: ScenarioID, node i: Int, bed: TestBed, settings: ScenarioSettings, seconds: Double) throws {
        let host = bed.host(i), dev = bed.clientFacingDevice(i)
        func tc(_ args: [String]) throws { try sh(host.command(["tc"] + args)) }
        func untc(_ args: [String]) { _ = try? sh(host.command(["tc"] + args), check: false) }
        switch id {
        case .S1:
            try tc(["qdisc", "add", "dev", dev, "root", "netem", "delay", "20ms", "5ms"])
            undo.append { untc(["qdisc", "del", "dev", dev, "root"]) }
        case .S2:
            try tc(["qdisc", "add", "dev", dev, "clsact"])
            undo.append { untc(["qdisc", "del", "dev", dev, "clsact"]) }
            try tc(["filter", "add", "dev", dev, "egress", "bpf", "da", "obj", settings.lossObject, "sec", "tc"])
        case .S3:
            try tc(["qdisc", "add", "dev", dev, "root", "tbf", "rate", "50mbit", "burst", "4kb", "latency", "50ms"])
            undo.append { untc(["qdisc", "del", "dev", dev, "root"]) }
        case .S4:
            // namespaces: the node's servers and the busy loops share the last CPU; alone on the
            // machine this would starve everything, so with one CPU the pressure is simply global.
            // A VM node has CPUs of its own: the busy loops run there, unpinned.
            // With node cgroups the busy loops join the node's cgroup and use up its allowance: the
            // node is CPU-starved, the others are not, and each agent sees its own cgroup.
            let inCgroup = bed.cgroups[i] != nil
            let cpu = !host.isVM && !inCgroup && bed.options.cpus > 1 ? bed.options.cpus - 1 : nil
            if let cpu {
                try bed.pin(node: i, cpu: cpu)
                undo.append { bed.unpin(node: i) }
            }
            let load = ["python3", settings.cpuScript, "--workers", String(settings.stressWorkers), "--seconds", String(Int(seconds.rounded(.up)) + 30)]
            let busy = try DaemonProcess(name: "cpu pressure", host.isVM ? host.daemon(load) : bed.inNodeCgroup(i, bed.pinned(cpu, load)),
                                   logPath: "\(bed.options.workDir)/cpu-pressure.log", ownGroup: true, stdinPipe: host.isVM, stopGrace: 5)
            bed.track(busy)
            undo.append { busy.stop() }
        case .S5:
            let devices = Array(Set([bed.clientFacingDevice(i), bed.controllerFacingDevice(i)])).sorted()
            let stop = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            let half = settings.outagePeriod / 2
            @Sendable func set(_ state: String) {
                for d in devices { _ = try? sh(host.command(["ip", "link", "set", d, state]), check: false) }
            }
            Thread.detachNewThread {
                // up for half a period, down for half a period, until removed
                while stop.wait(timeout: .now() + half) == .timedOut {
                    set("down")
                    if stop.wait(timeout: .now() + half) == .success { break }
                    set("up")
                }
                set("up")
                finished.signal()
            }
            undo.append { stop.signal(); finished.wait() }
        }
    }

    func remove() {
        guard !removed else { return }
        removed = true
        for u in undo.reversed() { u() }
    }

    deinit { remove() }

    /// Whether the node's kernel has sch_netem (S1), probed on a throwaway device there.
    static func netemAvailable(on host: NodeHost) -> Bool {
        let dev = "netemprobe0"
        guard (try? sh(host.command(["ip", "link", "add", dev, "type", "veth", "peer", "name", "netemprobe1"]), check: true)) != nil else {
            return false
        }
        defer { _ = try? sh(host.command(["ip", "link", "delete", dev]), check: false) }
        return (try? sh(host.command(["tc", "qdisc", "add", "dev", dev, "root", "netem", "delay", "1ms"]), check: true)) != nil
    }
}
