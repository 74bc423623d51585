// Issue 13, finding 10 (unit level): a report's lists and strings are bounded, out-of-range values
// and non-Kubernetes node names are refused naming the field and the key, and the registry keeps
// only the aggregate fields. The memory bound is measured on the real controller in
// AbuseControllerTests.
import EdgeConfig
import EdgeController
import EdgeTelemetry
import XCTest

final class ReportBoundsTests: XCTestCase {
    func ingest(maxPeers: Int = 1024, maxDrops: Int = 256) throws -> ReportIngest {
        var r = Fixtures.registryConfig(maxNodes: 10)
        r.maxPeers = maxPeers
        r.maxDropReasons = maxDrops
        return ReportIngest(token: nil, registry: NodeRegistry(score: Fixtures.scoreConfig(), registry: r), maxBytes: 4 << 20)
    }

    func malformed(_ i: ReportIngest, _ w: TelemetryWindow) -> String {
        guard case let .malformed(reason) = i.accept(body: Fixtures.json(w)) else { return "accepted" }
        return reason
    }

    func testListsOverTheBoundsAreRefusedNamingTheKey() throws {
        let i = try ingest(maxPeers: 4, maxDrops: 2)
        var w = Fixtures.window("edge-a")
        w.peers = (0..<5).map { PeerRTT(address: "10.0.0.\($0)", rttP50Ms: 1, rttP99Ms: 2, samples: 1) }
        XCTAssertEqual(malformed(i, w), "peers: 5 entries, more than registry.max_peers = 4")
        w = Fixtures.window("edge-a")
        w.drops = ["A", "B", "C"].map { DropReasonStat(reason: $0, count: 1, ratePerSecond: 1, weight: 1) }
        XCTAssertEqual(malformed(i, w), "drops: 3 entries, more than registry.max_drop_reasons = 2")
        // at the bounds: accepted
        w.drops.removeLast()
        w.peers = (0..<4).map { PeerRTT(address: "fd00::\($0)", rttP50Ms: 1, rttP99Ms: 2, samples: 1) }
        XCTAssertEqual(i.accept(body: Fixtures.json(w)).httpStatus, 200)
    }

    func testStringsAndValuesOutOfRangeAreRefused() throws {
        let i = try ingest()
        var w = Fixtures.window("edge-a", retrans: 1.5)
        XCTAssertEqual(malformed(i, w), "retrans_rate: must be in [0, 1], got 1.5")
        w = Fixtures.window("edge-a")
        w.drops = [DropReasonStat(reason: "NO_SOCKET", count: 1, ratePerSecond: 1, weight: -2)]
        XCTAssertEqual(malformed(i, w), "drops[0].weight: must be a finite number ≥ 0, got -2.0")
        w.drops = [DropReasonStat(reason: String(repeating: "X", count: 65), count: 1, ratePerSecond: 1, weight: 1)]
        XCTAssertTrue(malformed(i, w).hasPrefix("drops[0].reason: expected 1–64 characters"))
        w.drops = [DropReasonStat(reason: "no socket\u{1b}[2J", count: 1, ratePerSecond: 1, weight: 1)]
        XCTAssertTrue(malformed(i, w).hasPrefix("drops[0].reason:"))
        w = Fixtures.window("edge-a")
        w.peers = [PeerRTT(address: String(repeating: "1", count: 65), rttP50Ms: 1, rttP99Ms: 1, samples: 1)]
        XCTAssertTrue(malformed(i, w).hasPrefix("peers[0].address: expected an IPv4 or IPv6 address"))
        w.peers = [PeerRTT(address: "evil\r\nrow", rttP50Ms: 1, rttP99Ms: 1, samples: 1)]
        XCTAssertTrue(malformed(i, w).hasPrefix("peers[0].address:"))
    }

    func testNodeNamesFollowTheKubernetesRule() throws {
        let i = try ingest()
        for bad in ["..", ".", "a..b", ".edge", "edge.", "-edge", "edge-", "Edge-A", "edge_a", "edge.-a"] {
            XCTAssertTrue(malformed(i, Fixtures.window(bad)).hasPrefix("node: \""), bad)
        }
        XCTAssertTrue(malformed(i, Fixtures.window("..")).contains("DNS-1123"), malformed(i, Fixtures.window("..")))
        let longest = (0..<4).map { _ in String(repeating: "a", count: 62) }.joined(separator: ".") + ".b" // 253 bytes
        XCTAssertEqual(longest.utf8.count, 253)
        for good in ["edge-a", "edge-1.zone-2.example", "10.0.0.7", "a", longest] {
            XCTAssertEqual(i.accept(body: Fixtures.json(Fixtures.window(good))).httpStatus, 200, good)
        }
        XCTAssertEqual(malformed(i, Fixtures.window(longest + "b")), "node: longer than 253 bytes")
    }

    func testTheRegistryKeepsOnlyTheAggregates() throws {
        let i = try ingest()
        var w = Fixtures.window("edge-a")
        w.peers = (0..<1000).map { PeerRTT(address: "10.1.\($0 / 256).\($0 % 256)", rttP50Ms: 1, rttP99Ms: 2, samples: 1) }
        XCTAssertEqual(i.accept(body: Fixtures.json(w)).httpStatus, 200)
        let kept = try XCTUnwrap(i.registry.snapshot(node: "edge-a"))
        XCTAssertEqual(kept.window.peers, [])
        XCTAssertEqual(kept.window.drops, [])
        XCTAssertEqual(kept.window.rttP99Ms, w.rttP99Ms)
        XCTAssertEqual(kept.window.dropRateWeighted, w.dropRateWeighted)
    }

    func testBoundsAreConfigKeys() throws {
        let c = try ControllerConfig.parse(text: "[registry]\nmax_peers = 10\nmax_drop_reasons = 20\n", file: "c.toml")
        XCTAssertEqual(c.registry.maxPeers, 10)
        XCTAssertEqual(c.registry.maxDropReasons, 20)
        XCTAssertEqual(ControllerConfig.defaults.registry.maxPeers, 1024)
        XCTAssertEqual(ControllerConfig.defaults.registry.maxDropReasons, 256)
        XCTAssertThrowsError(try ControllerConfig.parse(text: "[registry]\nmax_peers = -1\n", file: "c.toml")) {
            XCTAssertTrue("\($0)".contains("registry.max_peers"), "\($0)")
        }
        let s = try ControllerConfig.parse(text: "[server]\nmax_connections = 100\nidle_timeout = \"5s\"\nmax_extender_body = 1048576\nmax_extender_requests = 3\n",
                                           file: "c.toml").server
        XCTAssertEqual([s.maxConnections, s.maxExtenderBody, s.maxExtenderRequests], [100, 1 << 20, 3])
        XCTAssertEqual(s.idleTimeoutSeconds, 5)
        XCTAssertThrowsError(try ControllerConfig.parse(text: "[server]\nmax_connections = 1\n", file: "c.toml")) {
            XCTAssertTrue("\($0)".contains("server.max_connections"), "\($0)")
        }
        let d = ControllerConfig.defaults
        XCTAssertEqual(try ControllerConfig.parse(text: d.tomlText, file: "round-trip"), d)
    }
}

/// Issue 13, finding 6 (unit level): the body limit fits what kube-scheduler sends, and the
/// admission bound refuses what is over it at once.
final class ExtenderAdmissionTests: XCTestCase {
    /// A full `v1.Node` as a kubelet publishes it (11 labels, 3 annotations, 4 conditions, 50
    /// images: kubelet's nodeStatusMaxImages) and kube-scheduler forwards it without
    /// `nodeCacheCapable` (its informer drops managedFields).
    static func fullNode(_ i: Int) -> String {
        let name = String(format: "edge-node-%05d.example.internal", i)
        let labels = ["beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                      "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "m5.2xlarge",
                      "topology.kubernetes.io/region": "eu-west-1", "topology.kubernetes.io/zone": "eu-west-1a",
                      "failure-domain.beta.kubernetes.io/region": "eu-west-1", "failure-domain.beta.kubernetes.io/zone": "eu-west-1a",
                      "node-role.kubernetes.io/worker": ""].map { "\"\($0)\":\"\($1)\"" }.joined(separator: ",")
        let conditions = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map {
            #"{"type":"\#($0)","status":"False","lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"KubeletHasSufficient\#($0)","message":"kubelet has sufficient \#($0.lowercased()) available"}"#
        }.joined(separator: ",")
        let images = (0..<50).map { j in
            #"{"names":["registry.example.com/team\#(j)/service-\#(j)@sha256:\#(String(repeating: "a", count: 64))","registry.example.com/team\#(j)/service-\#(j):v1.\#(j).0"],"sizeBytes":123456789}"#
        }.joined(separator: ",")
        return #"{"metadata":{"name":"\#(name)","uid":"3f0c6a2e-1b7d-4c55-9a1e-0123456789ab","resourceVersion":"123456789","creationTimestamp":"2026-01-01T00:00:00Z","labels":{\#(labels)},"annotations":{"kubeadm.alpha.kubernetes.io/cri-socket":"unix:///var/run/containerd/containerd.sock","node.alpha.kubernetes.io/ttl":"0","volumes.kubernetes.io/controller-managed-attach-detach":"true"}},"spec":{"podCIDR":"10.244.12.0/24","podCIDRs":["10.244.12.0/24"],"providerID":"aws:///eu-west-1a/i-0123456789abcdef0"},"status":{"capacity":{"cpu":"8","ephemeral-storage":"101430960Ki","hugepages-1Gi":"0","hugepages-2Mi":"0","memory":"32408432Ki","pods":"110"},"allocatable":{"cpu":"7910m","ephemeral-storage":"93478772582","hugepages-1Gi":"0","hugepages-2Mi":"0","memory":"31391600Ki","pods":"110"},"conditions":[\#(conditions)],"addresses":[{"type":"InternalIP","address":"10.0.12.34"},{"type":"Hostname","address":"\#(name)"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}},"nodeInfo":{"machineID":"\#(String(repeating: "0", count: 32))","systemUUID":"ec2\#(String(repeating: "0", count: 29))","bootID":"\#(String(repeating: "1", count: 36))","kernelVersion":"6.1.0-28-cloud-amd64","osImage":"Debian GNU/Linux 12 (bookworm)","containerRuntimeVersion":"containerd://1.7.24","kubeletVersion":"v1.35.0","kubeProxyVersion":"v1.35.0","operatingSystem":"linux","architecture":"amd64"},"images":[\#(images)]}}"#
    }

    static let pod = #"{"metadata":{"name":"web-1","namespace":"default","uid":"0c0ffee0-0000-4000-8000-000000000001"}}"#

    func testTheDefaultLimitAdmitsFiveThousandFullNodes() throws {
        let nodes = (0..<5000).map(Self.fullNode).joined(separator: ",")
        let full = #"{"Pod":\#(Self.pod),"Nodes":{"items":[\#(nodes)]},"NodeNames":null}"#
        let names = (0..<5000).map { "\"" + String(format: "edge-node-%05d.example.internal", $0) + "\"" }.joined(separator: ",")
        let cached = #"{"Pod":\#(Self.pod),"Nodes":null,"NodeNames":[\#(names)]}"#
        print("extender bodies: one full v1.Node \(Self.fullNode(1).utf8.count) B; 5000 full Nodes \(full.utf8.count) B; "
              + "5000 NodeNames \(cached.utf8.count) B; limit \(HTTPLimits.defaults.maxExtenderBytes) B")
        XCTAssertLessThanOrEqual(full.utf8.count, HTTPLimits.defaults.maxExtenderBytes)
        XCTAssertGreaterThan(full.utf8.count, 60_000_000, "the reference node is a full one")
        XCTAssertLessThan(cached.utf8.count, HTTPLimits.defaults.largeExtenderBytes, "cache-capable bodies are never large")
        let registry = NodeRegistry(score: Fixtures.scoreConfig(), registry: Fixtures.registryConfig())
        let reply = Extender(registry: registry, policy: ExtenderPolicy(filter: ControllerConfig.defaults.filter,
                                                                        stalePolicy: .filter, staleAfter: .seconds(15)))
            .handlePrioritize(body: Data(full.utf8))
        XCTAssertEqual(reply.status, 200)
    }

    func testOneLargeBodyAtATimeAndABoundOnAll() {
        let a = ExtenderAdmission(maxRequests: 3, largeBytes: 1000)
        guard case let .success(big) = a.admit(contentLength: 5000) else { return XCTFail("first large body") }
        guard case let .failure(busy) = a.admit(contentLength: 5000) else { return XCTFail("second large body admitted") }
        XCTAssertTrue(busy.reason.contains("another request with a body over 1000 bytes"), busy.reason)
        guard case .failure = a.admit(contentLength: nil) else { return XCTFail("chunked counts as large") }
        guard case let .success(s1) = a.admit(contentLength: 10), case let .success(s2) = a.admit(contentLength: 10) else {
            return XCTFail("small bodies")
        }
        guard case let .failure(full) = a.admit(contentLength: 10) else { return XCTFail("over max_extender_requests") }
        XCTAssertTrue(full.reason.contains("server.max_extender_requests = 3"), full.reason)
        [big, s1, s2].forEach(a.release)
        XCTAssertEqual([a.inProgress.all, a.inProgress.large], [0, 0])
        guard case .success = a.admit(contentLength: 5000) else { return XCTFail("slot released") }
    }

    func testRateLimitedLogCountsWhatItSuppressed() {
        let limiter = LogRateLimiter(interval: .seconds(10))
        let t0 = ContinuousClock.now
        XCTAssertEqual(limiter.admit(now: t0), 0)
        for k in 1...99 { XCTAssertNil(limiter.admit(now: t0 + .milliseconds(k))) }
        XCTAssertEqual(limiter.admit(now: t0 + .seconds(11)), 99)
        XCTAssertNil(limiter.admit(now: t0 + .seconds(12)))
    }
}
