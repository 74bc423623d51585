// `qdisc.show`: a device's qdiscs and clsact filters, read through our netlink layer and put
// in tc-like words for people (edgectl) and stable fields for scripts (--json).
import EdgeAPI
import EdgeNetlink
import Foundation

public enum QdiscInspector {
    public static func show(device: String, netlink: NetlinkSocket) throws -> QdiscShowResult {
        let link: Link
        do {
            link = try netlink.link(named: device)
        } catch let error as NetlinkError where error.errno == ENODEV {
            throw ShapingError.unknownDevice("unknown device '\(device)' (no such network interface)")
        } catch let error as NetlinkRequestError {
            throw ShapingError.unknownDevice(error.message)
        }
        let qdiscs = try netlink.listQdiscs(on: .index(link.index))
        var filters: [FilterShowEntry] = []
        if qdiscs.contains(where: { $0.kind == ClsactQdisc.kind }) {
            for hook in [ClsactHook.ingress, .egress] {
                filters += try netlink.listFilters(on: .index(link.index), hook: hook).map { f in
                    FilterShowEntry(hook: hook.rawValue, kind: f.kind, priority: f.priority, handle: f.handle,
                                    bpfName: f.bpfName, bpfProgramId: f.bpfProgramID, directAction: f.directAction,
                                    isEdgenode: hook == .egress && f.priority == Shaper.filterPriority
                                        && f.handle == Shaper.filterHandle && f.bpfName == Shaper.filterName)
                }
            }
        }
        return QdiscShowResult(device: link.name, ifindex: link.index, txQueues: link.numTxQueues,
                               qdiscs: qdiscs.map(entry), filters: filters)
    }

    static func entry(_ q: Qdisc) -> QdiscShowEntry {
        QdiscShowEntry(kind: q.kind, handle: q.handle.description, parent: q.parent.description, isRoot: q.isRoot,
                       options: describe(q.options))
    }

    /// Options in tc's words and units.
    static func describe(_ options: QdiscOptions) -> String {
        switch options {
        case .mq, .clsact:
            return ""
        case .fq(let o):
            var words: [String] = []
            func add(_ name: String, _ value: UInt32?, _ unit: String = "") {
                if let value { words.append("\(name) \(value)\(unit)") }
            }
            add("limit", o.limit)
            add("flow_limit", o.flowLimit)
            add("quantum", o.quantum)
            add("initial_quantum", o.initialQuantum)
            if let rate = o.maxRate { words.append(rate == UInt32.max ? "maxrate unlimited" : "maxrate \(UInt64(rate) * 8)bit") }
            add("ce_threshold", o.ceThresholdMicroseconds, "us")
            add("horizon", o.horizonMicroseconds, "us")
            if let drop = o.horizonDrop { words.append(drop ? "horizon_drop" : "horizon_cap") }
            return words.joined(separator: " ")
        case .tbf(let o):
            return "rate \(o.rate * 8)bit burst \(o.burst)b limit \(o.limit)b"
        case .htb(let o):
            var text = "default \(String(o.defaultClass, radix: 16)) r2q \(o.rateToQuantum)"
            if let q = o.directQueueLength { text += " direct_qlen \(q)" }
            return text
        case .other(_, let raw):
            return raw.isEmpty ? "" : "(\(raw.count) bytes of options)"
        }
    }
}
