// The network configuration on stdin, as much of it as this plugin reads. Unknown keys are
// allowed (a conflist's plugin entries carry whatever their authors like) and prevResult is
// kept as raw JSON, so that ADD prints it back unchanged.
import EdgeCore
import Foundation

struct NetConf {
    static let supportedVersions = ["0.3.0", "0.3.1", "0.4.0", "1.0.0"]
    static let defaultSocket = "/run/edge-agent/agent.sock"

    var cniVersion: String
    var name: String
    var prevResult: JSONValue?
    /// Bits per second and bits, as the reference bandwidth plugin reads them: runtimeConfig
    /// (the pod's kubernetes.io/*-bandwidth annotations) wins over the plugin's own keys.
    var ingressRate: Int = 0
    var ingressBurst: Int = 0
    var egressRate: Int = 0
    var egressBurst: Int = 0
    /// The local edge-agent's socket (`agentSocket` key).
    var agentSocket = NetConf.defaultSocket

    /// Parses stdin. Anything that is not the config we expect is a CNI decode/config error.
    init(data: Data) throws {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw CNIError(.decodeFailure, "cannot decode the network configuration on stdin",
                           details: "not JSON: \(error)")
        }
        guard case .object(let o) = root else {
            throw CNIError(.decodeFailure, "cannot decode the network configuration on stdin",
                           details: "expected a JSON object, got \(root.kindDescription)")
        }
        guard let version = o["cniVersion"]?.stringValue else {
            throw CNIError(.invalidConfig, "network configuration has no cniVersion", details: "key cniVersion: a string such as \"1.0.0\"")
        }
        cniVersion = version
        guard Self.supportedVersions.contains(version) else {
            throw CNIError(.incompatibleVersion, "incompatible CNI version \(version)",
                           details: "edgenode-bandwidth supports \(Self.supportedVersions.joined(separator: ", "))")
        }
        name = o["name"]?.stringValue ?? ""
        prevResult = o["prevResult"]
        if let socket = o["agentSocket"] {
            guard let s = socket.stringValue, s.hasPrefix("/") else {
                throw CNIError(.invalidConfig, "invalid agentSocket", details: "key agentSocket: an absolute path, got \(socket.kindDescription)")
            }
            agentSocket = s
        }
        try read(o, context: "")
        if let runtime = o["runtimeConfig"] {
            guard case .object(let r) = runtime else {
                throw CNIError(.invalidConfig, "invalid runtimeConfig", details: "key runtimeConfig: expected an object")
            }
            if let bandwidth = r["bandwidth"] {
                guard case .object(let b) = bandwidth else {
                    throw CNIError(.invalidConfig, "invalid runtimeConfig.bandwidth", details: "expected an object with egressRate/egressBurst in bits")
                }
                try read(b, context: "runtimeConfig.bandwidth.")
            }
        }
    }

    private mutating func read(_ o: [String: JSONValue], context: String) throws {
        func bits(_ key: String) throws -> Int? {
            guard let v = o[key] else { return nil }
            let number: Int?
            switch v {
            case .int(let i): number = i
            case .double(let d) where d >= 0 && d < 9.2e18 && d.rounded() == d: number = Int(d)
            default: number = nil
            }
            guard let n = number, n >= 0 else {
                throw CNIError(.invalidConfig, "invalid \(context)\(key)",
                               details: "key \(context)\(key): a non-negative integer in bits, got \(v.kindDescription)")
            }
            return n
        }
        if let v = try bits("ingressRate") { ingressRate = v }
        if let v = try bits("ingressBurst") { ingressBurst = v }
        if let v = try bits("egressRate") { egressRate = v }
        if let v = try bits("egressBurst") { egressBurst = v }
    }

    /// The reference plugin's rule, kept so configs behave the same: a rate needs a burst.
    func validateBandwidth() throws {
        if ingressRate > 0 {
            throw CNIError(.unsupportedField, "ingressRate is not supported by edgenode-bandwidth",
                           details: "edgenode-bandwidth shapes pod egress only (EDT at the node's uplink); ingressRate \(ingressRate) bit/s was asked (kubernetes.io/ingress-bandwidth). Remove it, or chain the reference bandwidth plugin for ingress.")
        }
        if egressRate > 0 && egressBurst == 0 {
            throw CNIError(.invalidConfig, "egressRate needs egressBurst",
                           details: "egressRate \(egressRate) bit/s with egressBurst 0 (both in bits, as for the reference bandwidth plugin)")
        }
        if egressRate > 0 && egressRate < 1_000_000 {
            throw CNIError(.invalidConfig, "egressRate \(egressRate) bit/s is below edge-agent's 1 Mbit/s minimum",
                           details: "key runtimeConfig.bandwidth.egressRate")
        }
    }
}
