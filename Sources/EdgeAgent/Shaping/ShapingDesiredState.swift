// What shaping wants the host to look like, in the manner of Cilium's bandwidth manager: the
// reconcilers compare it with what is there and change only the difference, so a second setup
// sends nothing to the kernel.
import EdgeNetlink

/// A tc filter place edgenode owns: hook, priority and handle, and the name it gives its filter.
struct FilterSlot: Equatable {
    var hook: ClsactHook
    var priority: UInt16
    var handle: UInt32
    var name: String

    func holds(_ filter: TCFilter) -> Bool {
        filter.priority == priority && filter.handle == handle
    }

    /// True when `filter` is in this slot and already runs program `programID` in direct action.
    func runs(_ programID: UInt32, _ filter: TCFilter?) -> Bool {
        guard let filter, holds(filter) else { return false }
        return filter.kind == "bpf" && filter.bpfProgramID == programID && filter.directAction == true
    }
}

/// The wished state of one shaped device and the host.
struct ShapingDesiredState {
    /// The EDT program on the uplink's clsact egress: priority 1 so it runs first, a handle of its own.
    static let egressFilter = FilterSlot(hook: .egress, priority: 1, handle: 0xED7, name: "edgenode-edt")
    /// The classifier on a pod's host-side veth (clsact ingress, what the pod sends).
    static let podClassifier = FilterSlot(hook: .ingress, priority: 1, handle: 0xED8, name: "edgenode-classify")
    /// Root qdisc kinds setup installs (mq over fq, or a single root fq).
    static let installedRootKinds: Set<String> = [MQQdisc.kind, FQOptions.kind]

    /// The shaped device, as found.
    var device: Link
    /// fq under each TX queue (kernel defaults: EDT needs fq, not particular options).
    var fq = FQOptions()
    /// skb->mark bits that carry pod classes from veth classifiers to the uplink.
    var markMask: UInt32
    /// net.ipv4.tcp_congestion_control while shaping is active; nil leaves it alone.
    var hostCongestionControl: String?

    init(device: Link, settings: ShaperSettings) {
        self.device = device
        markMask = settings.markMask
        hostCongestionControl = settings.hostCongestionControl
    }
}
