// What the plugin needs from the previous plugin's result (bridge/ptp + host-local): the pod's
// host-side veth and its addresses. Works for 0.4.0 results (ips carry "version") and 1.0.0.
import EdgeCore
import Foundation

struct PodAttachment: Equatable {
    var hostInterface: String
    var addresses: [String]
}

enum PrevResult {
    /// `sysClassNet`: where to look at host interfaces (tests of the parsing may point elsewhere).
    static func attachment(_ result: JSONValue, ifname: String, sysClassNet: String = "/sys/class/net") throws -> PodAttachment {
        guard case .object(let r) = result else {
            throw CNIError(.invalidConfig, "prevResult is not an object", details: "a chained plugin needs the previous plugin's result")
        }
        let interfaces = r["interfaces"]?.arrayValue ?? []
        var containerIndex: Int?
        var hostCandidates: [String] = []
        for (i, iface) in interfaces.enumerated() {
            guard let name = iface["name"]?.stringValue else { continue }
            let sandbox = iface["sandbox"]?.stringValue ?? ""
            if !sandbox.isEmpty {
                if name == ifname { containerIndex = i }
            } else if isVeth(name, sysClassNet: sysClassNet) {
                hostCandidates.append(name)
            }
        }
        guard let host = hostCandidates.first, hostCandidates.count == 1 else {
            throw CNIError(.invalidConfig, hostCandidates.isEmpty ? "prevResult names no host-side veth"
                                                                  : "prevResult names more than one host-side veth",
                           details: "interfaces without a sandbox that are veths in the host namespace: \(hostCandidates); edgenode-bandwidth must follow a plugin that creates a veth pair (bridge, ptp)")
        }
        var addresses: [String] = []
        for ip in r["ips"]?.arrayValue ?? [] {
            if let index = ip["interface"]?.intValue, let containerIndex, index != containerIndex { continue }
            guard let cidr = ip["address"]?.stringValue else { continue }
            addresses.append(String(cidr.split(separator: "/", maxSplits: 1).first ?? ""))
        }
        guard !addresses.isEmpty else {
            throw CNIError(.invalidConfig, "prevResult has no IP address for \(ifname)",
                           details: "the pod's addresses are its class's selector; chain after an IPAM plugin (host-local)")
        }
        return PodAttachment(hostInterface: host, addresses: addresses)
    }

    /// A veth in this namespace: it exists, is not a bridge, and has a peer (iflink ≠ ifindex).
    static func isVeth(_ name: String, sysClassNet: String) -> Bool {
        let dir = sysClassNet + "/" + name
        guard !name.contains("/"), !FileManager.default.fileExists(atPath: dir + "/bridge") else { return false }
        func read(_ file: String) -> String? {
            (try? String(contentsOfFile: dir + "/" + file, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let index = read("ifindex"), let link = read("iflink") else { return false }
        return index != link
    }
}
