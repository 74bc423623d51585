// The study's reliability measure: the service's own retransmitted segments and the kernel's drops,
// read per node namespace from the kernel's counters before and after the measured load. In a node
// namespace the TCP senders are the replicas, the probe server and the agent's pushes, so Tcp
// RetransSegs there is the service's; drops are every qdisc's "dropped" (S2's cls_bpf loss, S3's
// tbf) plus the devices' rx/tx_dropped (S5's downed links). On a VM node the same files are read in
// the VM (its SSH NIC included).
import Foundation

struct NodeNetCounters: Equatable {
    var retransSegs: UInt64 = 0
    var drops: UInt64 = 0

    /// Growth since an older reading (a counter that stepped back counts 0).
    func delta(since a: NodeNetCounters) -> NodeNetCounters {
        NodeNetCounters(retransSegs: retransSegs >= a.retransSegs ? retransSegs - a.retransSegs : 0,
                        drops: drops >= a.drops ? drops - a.drops : 0)
    }

    /// One shell command prints everything `parse` reads.
    static let command = ["sh", "-c", "cat /proc/net/snmp; echo @qdisc; tc -s qdisc show; echo @links; "
        + "cat /sys/class/net/*/statistics/rx_dropped /sys/class/net/*/statistics/tx_dropped"]

    /// Parses the output of `command`.
    static func parse(_ text: String) throws -> NodeNetCounters {
        var c = NodeNetCounters()
        var section = "snmp"
        var tcpHeader: [Substring]?
        var sawTCP = false
        for line in text.split(separator: "\n") {
            if line == "@qdisc" { section = "qdisc"; continue }
            if line == "@links" { section = "links"; continue }
            switch section {
            case "snmp":
                guard line.hasPrefix("Tcp:") else { continue }
                let f = line.split(separator: " ").dropFirst()
                if let header = tcpHeader {
                    guard let i = header.firstIndex(of: "RetransSegs"), i < f.count, let v = UInt64(Array(f)[i]) else {
                        throw CommandFailure(description: "node counters: no RetransSegs value in /proc/net/snmp's Tcp line")
                    }
                    c.retransSegs = v
                    sawTCP = true
                } else {
                    tcpHeader = Array(f)
                }
            case "qdisc":
                // " Sent 86 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) "
                guard let r = line.range(of: "(dropped ") else { continue }
                let rest = line[r.upperBound...]
                guard let v = UInt64(rest.prefix { $0.isNumber }) else {
                    throw CommandFailure(description: "node counters: unreadable tc drop count in \"\(line)\"")
                }
                c.drops &+= v
            default:
                guard let v = UInt64(line.trimmingCharacters(in: .whitespaces)) else { continue }
                c.drops &+= v
            }
        }
        guard sawTCP else { throw CommandFailure(description: "node counters: no Tcp lines in /proc/net/snmp") }
        return c
    }
}
