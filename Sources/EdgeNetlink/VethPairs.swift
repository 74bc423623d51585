// Creating and deleting veth pairs by rtnetlink: what `ip link add A numtxqueues N type veth
// peer name B` sends. `edgectl doctor` makes one in a throwaway namespace to probe mq (which
// needs a multi-queue device) without iproute2.
import CMnl
import Glibc

/// VETH_INFO_PEER from <linux/veth.h> (not in the headers CMnl imports).
private let vethInfoPeer: UInt16 = 1

extension NetlinkSocket {
    /// Adds veth `name` and its peer `peer`, each with `queues` TX and RX queues.
    public func addVethPair(_ name: String, peer: String, queues: UInt32 = 1) throws {
        for n in [name, peer] where n.isEmpty || n.utf8.count >= Int(IFNAMSIZ) || n.contains("/") {
            throw NetlinkRequestError("invalid device name '\(n)' (1–15 bytes, no '/')")
        }
        let request = NetlinkRequest(type: UInt16(RTM_NEWLINK),
                                     flags: UInt16(NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK),
                                     operation: "add veth pair \(name)/\(peer)")
        request.putFamilyHeader(ifinfomsg())
        request.put(UInt16(IFLA_IFNAME), string: name)
        request.put(UInt16(IFLA_NUM_TX_QUEUES), u32: queues)
        request.put(UInt16(IFLA_NUM_RX_QUEUES), u32: queues)
        request.nest(UInt16(IFLA_LINKINFO)) { info in
            info.put(UInt16(IFLA_INFO_KIND), string: "veth")
            info.nest(UInt16(IFLA_INFO_DATA)) { data in
                data.nest(vethInfoPeer) { p in
                    // the peer's attributes follow its own ifinfomsg inside VETH_INFO_PEER
                    p.putFamilyHeader(ifinfomsg())
                    p.put(UInt16(IFLA_IFNAME), string: peer)
                    p.put(UInt16(IFLA_NUM_TX_QUEUES), u32: queues)
                    p.put(UInt16(IFLA_NUM_RX_QUEUES), u32: queues)
                }
            }
        }
        _ = try execute(request)
    }

    /// Deletes a device (a veth's peer goes with it).
    public func deleteLink(_ name: String) throws {
        let link = try link(named: name)
        let request = NetlinkRequest(type: UInt16(RTM_DELLINK), flags: UInt16(NLM_F_ACK), operation: "delete device \(name)")
        var header = ifinfomsg()
        header.ifi_index = link.index
        request.putFamilyHeader(header)
        _ = try execute(request)
    }
}
