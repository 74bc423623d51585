// The methods of both local APIs, each with the types of its params and result: the daemons
// register handlers and edgectl (and the CNI plugin) call through these descriptors, so a
// misspelt method name or a wrong result type is a compile error on either side (as in
// Tailscale's LocalAPI client). Raw string calls remain for tests that send hostile input.
// (`RPCMethod` and `NoParams` are in EdgeCore, so that EdgeRPC needs none of these types.)
import EdgeCore

/// edge-agent's methods (`/run/edge-agent/agent.sock`).
public enum AgentMethod {
    public static let status = RPCMethod<NoParams, AgentStatus>("agent.status")
    public static let telemetryGet = RPCMethod<TelemetryGetParams, AgentTelemetry>("telemetry.get")
    public static let telemetryReasons = RPCMethod<NoParams, [DropReasonInfo]>("telemetry.reasons")
    public static let shapingList = RPCMethod<NoParams, ShapingListResult>("shaping.list")
    public static let shapingSet = RPCMethod<ShapingSetParams, ShapingClassInfo>("shaping.set")
    public static let shapingDelete = RPCMethod<ShapingDeleteParams, ShapingChangeResult>("shaping.delete")
    public static let shapingReset = RPCMethod<NoParams, ShapingChangeResult>("shaping.reset")
    public static let podAdd = RPCMethod<ShapingPodAddParams, ShapingPodResult>("shaping.pod.add")
    public static let podCheck = RPCMethod<ShapingPodRef, ShapingPodResult>("shaping.pod.check")
    public static let podDelete = RPCMethod<ShapingPodRef, ShapingChangeResult>("shaping.pod.delete")
    public static let qdiscShow = RPCMethod<QdiscShowParams, QdiscShowResult>("qdisc.show")
}

/// edge-controller's methods (`/run/edge-controller/controller.sock`).
public enum ControllerMethod {
    public static let status = RPCMethod<NoParams, ControllerStatusResult>("controller.status")
    public static let nodesList = RPCMethod<NoParams, NodesListResult>("nodes.list")
    public static let scoreGet = RPCMethod<ScoreGetParams, ScoreGetResult>("score.get")
    public static let extenderDryRun = RPCMethod<ExtenderDryRunParams, ExtenderDryRunResult>("extender.dryrun")
}
