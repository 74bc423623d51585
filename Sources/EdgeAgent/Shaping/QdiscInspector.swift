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
        let edt = ShapingDesiredState.egressFilter
        if qdiscs.contains(where: { $0.kind == ClsactQdisc.kind }) {
            for hook in [ClsactHook.ingress, .egress] {
                filters += try netlink.listFilters(on: .index(link.index), hook: hook).map { f in
                    FilterShowEntry(hook: hook.rawValue, kind: f.kind, priority: f.priority, handle: f.handle,
                                    bpfName: f.bpfName, bpfProgramId: f.bpfProgramID, directAction: f.directAction,
                                    isEdgenode: hook == edt.hook && edt.holds(f) && f.bpfName == edt.name)
                }
            }
        }
        return QdiscShowResult(device: link.name, ifindex: link.index, txQueues: link.numTxQueues,
                               qdiscs: qdiscs.map(entry), filters: filters)
    }

    static func entry(_ q: Qdisc) -> QdiscShowEntry {
        QdiscShowEntry(kind: q.kind, handle: q.handle.description, parent: q.parent.description, isRoot: q.isRoot,
                       options: q.options.tcWords)
    }
}
