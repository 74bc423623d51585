// edgenode-bandwidth: a CNI chained plugin that shapes a pod's egress with edge-agent's EDT
// shaper (a drop-in for the reference `bandwidth` plugin, which puts a TBF on the veth).
//
// The runtime runs it as libcni does: CNI_COMMAND (ADD, DEL, CHECK, VERSION), CNI_CONTAINERID,
// CNI_NETNS, CNI_IFNAME, CNI_PATH in the environment, the network configuration on stdin.
//   ADD    with runtimeConfig.bandwidth.egressRate: asks edge-agent (shaping.pod.add) to give the
//          pod a class by its addresses and a classifier on its host-side veth; prints prevResult
//          back. Without a rate it only passes prevResult through. ingressRate is refused.
//   DEL    shaping.pod.delete by container id; idempotent. With the agent down DEL still
//          succeeds: the agent forgets pods whose veth is gone when it starts again.
//   CHECK  shaping.pod.check: the class and the classifier are there.
//   VERSION the versions below.
// Errors: the CNI error object on stdout, exit 1.
import EdgeAPI
import EdgeCore
import EdgeRPC
import Foundation

let environment = ProcessInfo.processInfo.environment
var versionForErrors = "1.0.0"

func fail(_ error: CNIError) -> Never {
    FileHandle.standardOutput.write(error.json(cniVersion: versionForErrors))
    exit(1)
}

func require(_ key: String) throws -> String {
    guard let v = environment[key], !v.isEmpty else {
        throw CNIError(.invalidEnvironment, "\(key) is not set", details: "the container runtime sets CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME and CNI_PATH")
    }
    return v
}

func agent(_ conf: NetConf) -> RPCClient {
    RPCClient(path: conf.agentSocket, timeout: .seconds(10), daemonName: "edge-agent")
}

/// An agent failure as a CNI error naming the socket; "not running" is worth a retry.
func agentError(_ error: Error, _ conf: NetConf, doing: String) -> CNIError {
    if let e = error as? RPCClientError {
        switch e {
        case .notRunning, .staleSocket, .timedOut, .connectionClosed:
            return CNIError(.tryAgainLater, "edge-agent is not reachable at \(conf.agentSocket)",
                            details: "\(doing): \(e)")
        case .server(_, _, let object):
            return CNIError(.agentFailed, "edge-agent refused to \(doing)", details: "\(object.message) (socket \(conf.agentSocket))")
        default:
            return CNIError(.agentFailed, "cannot \(doing) through edge-agent at \(conf.agentSocket)", details: "\(e)")
        }
    }
    return CNIError(.agentFailed, "cannot \(doing) through edge-agent at \(conf.agentSocket)", details: "\(error)")
}

func readConf() throws -> NetConf {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    let conf = try NetConf(data: data)
    versionForErrors = conf.cniVersion
    return conf
}

/// prevResult with the config's cniVersion, as chained plugins print it.
func printResult(_ conf: NetConf) {
    var result = conf.prevResult ?? .object([:])
    if case .object(var o) = result {
        o["cniVersion"] = .string(conf.cniVersion)
        result = .object(o)
    }
    FileHandle.standardOutput.write(CNIOutput.encode(result))
}

func run() throws {
    let command = try require("CNI_COMMAND")
    switch command {
    case "VERSION":
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let asked = (try? JSONDecoder().decode(JSONValue.self, from: data))?["cniVersion"]?.stringValue ?? "1.0.0"
        let out = JSONValue.object(["cniVersion": .string(asked),
                                    "supportedVersions": .array(NetConf.supportedVersions.map { .string($0) })])
        FileHandle.standardOutput.write(CNIOutput.encode(out))
    case "ADD":
        let containerId = try require("CNI_CONTAINERID"), ifname = try require("CNI_IFNAME")
        _ = try require("CNI_NETNS")
        let conf = try readConf()
        try conf.validateBandwidth()
        guard let prev = conf.prevResult else {
            throw CNIError(.invalidConfig, "edgenode-bandwidth must be chained: no prevResult",
                           details: "put it after an interface plugin (bridge, ptp) and IPAM in a conflist")
        }
        if conf.egressRate > 0 {
            let pod = try PrevResult.attachment(prev, ifname: ifname)
            let params = ShapingPodAddParams(containerId: containerId, ifname: ifname, hostInterface: pod.hostInterface,
                                             addresses: pod.addresses, rate: String(conf.egressRate))
            do {
                let _: ShapingPodResult = try agent(conf).call(AgentMethod.podAdd, params: params)
            } catch {
                throw agentError(error, conf, doing: "shape the egress of container \(containerId) (\(pod.hostInterface))")
            }
        }
        printResult(conf)
    case "DEL":
        let containerId = try require("CNI_CONTAINERID"), ifname = try require("CNI_IFNAME")
        let conf = try readConf()
        do {
            let _: ShapingChangeResult = try agent(conf).call(AgentMethod.podDelete,
                                                              params: ShapingPodRef(containerId: containerId, ifname: ifname))
        } catch let e as RPCClientError {
            switch e {
            case .notRunning, .staleSocket:
                // nothing can be removed now; a starting agent forgets pods whose veth is gone
                FileHandle.standardError.write(Data("edgenode-bandwidth: DEL \(containerId): \(e); nothing to remove now\n".utf8))
            default:
                throw agentError(e, conf, doing: "remove the shaping of container \(containerId)")
            }
        }
    case "CHECK":
        let containerId = try require("CNI_CONTAINERID"), ifname = try require("CNI_IFNAME")
        _ = try require("CNI_NETNS")
        let conf = try readConf()
        try conf.validateBandwidth()
        guard conf.prevResult != nil else {
            throw CNIError(.invalidConfig, "CHECK needs prevResult", details: "edgenode-bandwidth is a chained plugin")
        }
        guard conf.egressRate > 0 else { return }
        let pod: ShapingPodResult
        do {
            pod = try agent(conf).call(AgentMethod.podCheck, params: ShapingPodRef(containerId: containerId, ifname: ifname))
        } catch {
            throw agentError(error, conf, doing: "check the shaping of container \(containerId)")
        }
        if pod.rate.bitsPerSecond != UInt64(conf.egressRate) {
            throw CNIError(.checkFailed, "container \(containerId) is shaped at \(pod.rate.bitsPerSecond) bit/s, not \(conf.egressRate)",
                           details: "class \(pod.classId) on \(pod.hostInterface)")
        }
    default:
        throw CNIError(.invalidEnvironment, "unknown CNI_COMMAND \"\(command)\"", details: "expected ADD, DEL, CHECK or VERSION")
    }
}

do {
    try run()
} catch let error as CNIError {
    fail(error)
} catch {
    fail(CNIError(.ioFailure, "edgenode-bandwidth failed", details: "\(error)"))
}
