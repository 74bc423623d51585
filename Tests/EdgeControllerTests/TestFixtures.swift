// Shared builders for the controller tests: configs, reports, and kube-scheduler request bodies.
import EdgeConfig
import EdgeController
import EdgeCore
import EdgeTelemetry
import Foundation

enum Fixtures {
    /// Fixed normalisation with the design's weights, no smoothing, no hysteresis: raw = published.
    static func scoreConfig(normalisation: ScoreNormalisation = .fixed, smoothing: Double = 1, hysteresis: Double = 0)
        -> ControllerConfig.Score {
        var s = ControllerConfig.defaults.score
        s.normalisation = normalisation
        s.smoothing = smoothing
        s.recoverySmoothing = smoothing
        s.hysteresis = hysteresis
        s.bounds = [.rttP99: SignalBounds(lo: 0, hi: 200), .retrans: SignalBounds(lo: 0, hi: 0.05),
                    .dropWeighted: SignalBounds(lo: 0, hi: 100), .runqlatP95: SignalBounds(lo: 0, hi: 20),
                    .cpu: SignalBounds(lo: 0, hi: 1)]
        return s
    }

    static func registryConfig(staleAfter: Double = 15, policy: StalePolicy = .filter, maxNodes: Int = 100)
        -> ControllerConfig.Registry {
        ControllerConfig.Registry(staleAfterSeconds: staleAfter, stalePolicy: policy, maxNodes: maxNodes)
    }

    /// A report with every signal present.
    static func window(_ node: String, rtt: Double? = 20, retrans: Double? = 0.005, dropW: Double = 10,
                       runqlat: Double? = 2, cpu: Double? = 0.3) -> TelemetryWindow {
        TelemetryWindow(node: node, agentVersion: "0.1.0", generatedAt: 1_700_000_000, windowSeconds: 10,
                        rttP50Ms: rtt.map { $0 / 2 }, rttP99Ms: rtt, rttSamples: rtt == nil ? 0 : 500,
                        retransRate: retrans, retransmits: retrans == nil ? 0 : 5, segmentsOut: retrans == nil ? 0 : 1000,
                        dropRate: dropW, dropRateWeighted: dropW,
                        drops: dropW > 0 ? [DropReasonStat(reason: "NO_SOCKET", count: UInt64(dropW * 10), ratePerSecond: dropW, weight: 1)] : [],
                        runqlatP95Ms: runqlat, runqlatSamples: runqlat == nil ? 0 : 2000, cpuUtilization: cpu,
                        peers: rtt.map { [PeerRTT(address: "10.0.0.9", rttP50Ms: $0 / 2, rttP99Ms: $0, samples: 500)] } ?? [])
    }

    static func json(_ w: TelemetryWindow) -> Data {
        try! EdgeJSON.encoder().encode(w)
    }

    /// A `v1.Node` as kube-scheduler sends it to a non-cache-capable extender.
    static func nodeObject(_ name: String, ip: String) -> String {
        """
        {"kind":"Node","apiVersion":"v1",
         "metadata":{"name":"\(name)","uid":"6f1c3e0a-4c1d-4b7e-9d2b-\(uidSuffix(ip))",
           "resourceVersion":"48213","creationTimestamp":"2025-01-10T09:12:44Z",
           "labels":{"beta.kubernetes.io/arch":"amd64","beta.kubernetes.io/os":"linux","kubernetes.io/arch":"amd64",
                     "kubernetes.io/hostname":"\(name)","kubernetes.io/os":"linux","topology.kubernetes.io/zone":"edge-zone-1"},
           "annotations":{"node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"},
           "managedFields":[{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2025-01-10T09:12:44Z",
                             "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{".":{}}}}}]},
         "spec":{"podCIDR":"10.244.1.0/24","podCIDRs":["10.244.1.0/24"],
                 "taints":[{"key":"edge.example.com/dedicated","value":"video","effect":"PreferNoSchedule"}]},
         "status":{
           "capacity":{"cpu":"4","ephemeral-storage":"41152812Ki","hugepages-2Mi":"0","memory":"8141116Ki","pods":"110"},
           "allocatable":{"cpu":"3800m","ephemeral-storage":"37926431477","hugepages-2Mi":"0","memory":"7629116Ki","pods":"110"},
           "conditions":[
             {"type":"MemoryPressure","status":"False","lastHeartbeatTime":"2025-01-12T08:00:01Z","lastTransitionTime":"2025-01-10T09:12:44Z","reason":"KubeletHasSufficientMemory","message":"kubelet has sufficient memory available"},
             {"type":"DiskPressure","status":"False","lastHeartbeatTime":"2025-01-12T08:00:01Z","lastTransitionTime":"2025-01-10T09:12:44Z","reason":"KubeletHasNoDiskPressure","message":"kubelet has no disk pressure"},
             {"type":"PIDPressure","status":"False","lastHeartbeatTime":"2025-01-12T08:00:01Z","lastTransitionTime":"2025-01-10T09:12:44Z","reason":"KubeletHasSufficientPID","message":"kubelet has sufficient PID available"},
             {"type":"Ready","status":"True","lastHeartbeatTime":"2025-01-12T08:00:01Z","lastTransitionTime":"2025-01-10T09:13:05Z","reason":"KubeletReady","message":"kubelet is posting ready status"}],
           "addresses":[{"type":"InternalIP","address":"\(ip)"},{"type":"Hostname","address":"\(name)"}],
           "daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},
           "nodeInfo":{"machineID":"2f8a1c9e5b7d4e3f9a0b1c2d3e4f5a6b","systemUUID":"4c4c4544-0042-3510-8052-b7c04f4e3232",
                       "bootID":"0d6e5c1a-7b3f-4a8e-9c2d-1e0f3a4b5c6d","kernelVersion":"6.1.0-18-amd64",
                       "osImage":"Debian GNU/Linux 12 (bookworm)","containerRuntimeVersion":"containerd://1.7.13",
                       "kubeletVersion":"v1.30.2","kubeProxyVersion":"v1.30.2","operatingSystem":"linux","architecture":"amd64"},
           "images":[{"names":["registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097","registry.k8s.io/pause:3.9"],"sizeBytes":321520}]}}
        """
    }

    /// 12 digits derived from the address, so each fixture node has its own UUID.
    private static func uidSuffix(_ ip: String) -> String {
        let digits = ip.filter(\.isNumber)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits.suffix(12)
    }

    /// A `v1.Pod` as kube-scheduler sends it (pending, unscheduled).
    static let podObject = """
        {"kind":"Pod","apiVersion":"v1",
         "metadata":{"name":"video-transcode-7d9f8","generateName":"video-transcode-","namespace":"media",
                     "uid":"b2f5e4a1-3c6d-4e8f-9a0b-1c2d3e4f5a6b","resourceVersion":"90211","creationTimestamp":"2025-01-12T08:00:00Z",
                     "labels":{"app":"video-transcode","pod-template-hash":"7d9f8"},
                     "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"video-transcode-7d9f8","uid":"c3a6f5b2-4d7e-4f90-8b1c-2d3e4f5a6b7c","controller":true,"blockOwnerDeletion":true}]},
         "spec":{"containers":[{"name":"ffmpeg","image":"registry.example.com/ffmpeg:6.1",
                                "resources":{"requests":{"cpu":"500m","memory":"256Mi"},"limits":{"memory":"512Mi"}},
                                "ports":[{"containerPort":8080,"protocol":"TCP"}],
                                "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
                 "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
                 "serviceAccountName":"default","schedulerName":"default-scheduler","priority":0,
                 "tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},
         "status":{"phase":"Pending","qosClass":"Burstable"}}
        """

    /// `ExtenderArgs` with `NodeNames` (nodeCacheCapable: true).
    static func argsWithNames(_ names: [String]?) -> Data {
        let list = names.map { "[" + $0.map { "\"\($0)\"" }.joined(separator: ",") + "]" } ?? "null"
        return Data("{\"Pod\":\(podObject),\"Nodes\":null,\"NodeNames\":\(list)}".utf8)
    }

    /// `ExtenderArgs` with full `Nodes` (nodeCacheCapable: false).
    static func argsWithNodes(_ nodes: [(String, String)]) -> Data {
        let items = nodes.map { nodeObject($0.0, ip: $0.1) }.joined(separator: ",")
        return Data("{\"Pod\":\(podObject),\"Nodes\":{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"48213\"},\"items\":[\(items)]},\"NodeNames\":null}".utf8)
    }
}
