// veth pairs between named namespaces, through iproute2: the one way the lab's beds wire
// namespaces together (the tests' fleet, the veth lab, the abuse bed, the experiment's bed).
import Foundation

/// One end of a veth pair.
public struct VethEnd {
    public var name: String
    public var netns: String
    /// An address with its prefix length ("10.0.0.1/24"); nil = none.
    public var address: String?

    public init(_ name: String, in netns: String, address: String? = nil) {
        self.name = name
        self.netns = netns
        self.address = address
    }
}

public enum Veth {
    /// Creates `a` <-> `b` (each made directly in its namespace, so names only need to be unique
    /// there; IFNAMSIZ allows 15 bytes), with `queues` TX and RX queues on each end when given,
    /// addresses where set, `linkOptions` applied to both ends (`ip link set dev X <options>`),
    /// and both ends up.
    public static func add(_ a: VethEnd, _ b: VethEnd, queues: Int? = nil, linkOptions: [String] = []) throws {
        let q = queues.map { ["numtxqueues", String($0), "numrxqueues", String($0)] } ?? []
        try sh(["ip", "link", "add", a.name, "netns", a.netns] + q
               + ["type", "veth", "peer", "name", b.name, "netns", b.netns] + q)
        for end in [a, b] {
            if let address = end.address {
                try sh(["ip", "-n", end.netns, "addr", "add", address, "dev", end.name])
            }
            if !linkOptions.isEmpty {
                try sh(["ip", "-n", end.netns, "link", "set", end.name] + linkOptions)
            }
            try sh(["ip", "-n", end.netns, "link", "set", end.name, "up"])
        }
    }
}
