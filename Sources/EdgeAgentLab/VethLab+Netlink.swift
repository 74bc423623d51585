// The veth lab's tx side as the agent's code sees it: a netlink socket inside the namespace.
import EdgeLab
import EdgeNetlink

extension VethLab {
    /// A netlink socket inside the tx namespace, for a Shaper of `txDevice`.
    public func txNetlink() throws -> NetlinkSocket {
        try NetlinkSocket(namespace: NetworkNamespace(named: txNamespace))
    }
}
