// A fresh network namespace with a veth pair for one kernel test, a netlink socket inside it,
// and `tc -j` cross-checks. Everything is deleted when the fixture goes away.
import EdgeNetlink
import EdgeTestSupport
import Foundation
import XCTest

final class KernelFixture {
    let netns: ScratchNetns
    let namespace: NetworkNamespace
    let socket: NetlinkSocket

    /// veth0/veth1 with `queues` TX and RX queues, both up.
    init(queues: Int = 4) throws {
        try requireRoot()
        netns = try ScratchNetns(prefix: "edgetest")
        try Veth.add(VethEnd("veth0", in: netns.name), VethEnd("veth1", in: netns.name), queues: queues)
        namespace = try NetworkNamespace(named: netns.name)
        socket = try NetlinkSocket(namespace: namespace)
    }

    /// `tc -j <args>` inside the namespace, parsed.
    func tcJSON(_ args: [String]) throws -> [[String: Any]] {
        let output = try sh(["tc", "-n", netns.name, "-j"] + args).stdout
        let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [] }
        let parsed = try JSONSerialization.jsonObject(with: Data(trimmed.utf8))
        guard let array = parsed as? [[String: Any]] else {
            throw ShellError.failed(command: "tc -j \(args)", status: 0, stderr: "not a JSON array: \(trimmed)")
        }
        return array
    }

    func tcQdiscs(_ device: String = "veth0") throws -> [[String: Any]] {
        try tcJSON(["qdisc", "show", "dev", device])
    }

    func tcRoot(_ device: String = "veth0") throws -> [String: Any]? {
        try tcQdiscs(device).first { $0["root"] as? Bool == true }
    }
}
