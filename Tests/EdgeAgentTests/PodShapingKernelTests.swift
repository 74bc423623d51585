// Pod classes that survive masquerade, on the real kernel: a "node" namespace with a Linux
// bridge, two "pod" namespaces on veths behind it, iptables MASQUERADE out of an uplink veth
// into an "outside" namespace. At the uplink every pod packet carries the node's address, so
// only the class id the veth classifier put in skb->mark can find the pod's class.
// Without sch_fq (the build machines) the uplink polices; the rate must still hold ±10 %.
import EdgeAPI
@testable import EdgeAgent
import EdgeBPF
import EdgeConfig
import EdgeLab
import EdgeNetlink
import EdgeTestSupport
import Foundation
import Logging
import XCTest

final class PodNetworkFixture {
    let node: ScratchNetns
    let outside: ScratchNetns
    let pods: [ScratchNetns]
    let netlink: NetlinkSocket
    let pinPath = "/sys/fs/bpf/edgetest-pod-\(UInt32.random(in: 0...UInt32.max))"
    let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-pod-\(UUID().uuidString)").path
    let outsideAddress = "192.168.207.2"
    let nodeUplinkAddress = "192.168.207.1"
    /// pod i: 10.207.0.(i+2), host-side veth hpod<i>
    static func podAddress(_ i: Int) -> String { "10.207.0.\(i + 2)" }
    static func hostVeth(_ i: Int) -> String { "hpod\(i)" }
    func podAddress(_ i: Int) -> String { Self.podAddress(i) }
    func hostVeth(_ i: Int) -> String { Self.hostVeth(i) }

    init(podCount: Int = 2) throws {
        try requireRoot()
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables") else {
            try unmet("needs iptables (Debian package iptables, in the Makefile's APT_BUILD)")
        }
        node = try ScratchNetns(prefix: "edgetest-node")
        outside = try ScratchNetns(prefix: "edgetest-out")
        pods = try (0..<podCount).map { _ in try ScratchNetns(prefix: "edgetest-pod") }
        try node.run(["ip", "link", "add", "br0", "type", "bridge"])
        try node.run(["ip", "addr", "add", "10.207.0.1/24", "dev", "br0"])
        try node.run(["ip", "link", "set", "br0", "up"])
        for (i, pod) in pods.enumerated() {
            try node.run(["ip", "link", "add", Self.hostVeth(i), "type", "veth", "peer", "name", "eth0", "netns", pod.name])
            try node.run(["ip", "link", "set", Self.hostVeth(i), "master", "br0", "up"])
            try pod.run(["ip", "addr", "add", Self.podAddress(i) + "/24", "dev", "eth0"])
            try pod.run(["ip", "link", "set", "eth0", "up"])
            try pod.run(["ip", "route", "add", "default", "via", "10.207.0.1"])
        }
        try Veth.add(VethEnd("up0", in: node.name, address: nodeUplinkAddress + "/24"),
                     VethEnd("eth0", in: outside.name, address: outsideAddress + "/24"), queues: 4)
        try node.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try node.run(["iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.207.0.0/24", "-o", "up0", "-j", "MASQUERADE"])
        netlink = try NetlinkSocket(namespace: NetworkNamespace(named: node.name))
    }

    deinit {
        for name in EDTDatapath.pinNames { unlink(pinPath + "/" + name) }
        rmdir(pinPath)
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    func shaper(markMask: UInt32 = AgentConfig.Shaping.defaultMarkMask) -> Shaper {
        var logger = Logger(label: "edgetest.pods")
        logger.logLevel = .warning
        var settings = ShaperSettings(device: "up0", horizonSeconds: nil, ecn: true, pinPath: pinPath, stateDirectory: stateDir)
        settings.markMask = markMask
        return Shaper(settings: settings, netlink: netlink, logger: logger)
    }

    func podShaping(_ shaper: Shaper) -> PodShaping {
        var logger = Logger(label: "edgetest.pods")
        logger.logLevel = .warning
        return PodShaping(shaper: shaper, stateDirectory: stateDir, logger: logger)
    }

    func addPod(_ pods: PodShaping, _ i: Int, rate: String) throws -> ShapingPodResult {
        try pods.add(ShapingPodAddParams(containerId: "container-\(i)", ifname: "eth0", hostInterface: hostVeth(i),
                                         addresses: [podAddress(i)], rate: rate))
    }

    /// Bulk TCP from pod i to the outside namespace.
    func measure(_ i: Int, warmup: Double = 0.5, seconds: Double = 3) throws -> TCPRateProbe.Result {
        try TCPRateProbe.measure(sender: pods[i].name, receiver: outside.name, address: outsideAddress,
                                 warmup: warmup, seconds: seconds)
    }

    /// `count` small UDP datagrams from pod i to the outside (what arrives does not matter:
    /// each one leaves through the uplink, masqueraded).
    func ping(_ i: Int, count: Int = 5) throws {
        let program = "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            + "for _ in range(int(sys.argv[2])): s.sendto(b'x'*100,(sys.argv[1],9))\n"
        try pods[i].run(["python3", "-c", program, outsideAddress, String(count)])
    }
}

final class PodShapingKernelTests: XCTestCase {
    func testMasqueradedPodTrafficIsCountedInItsClassThroughTheMark() throws {
        let f = try PodNetworkFixture(podCount: 1)
        let shaper = f.shaper()
        let pods = f.podShaping(shaper)
        let pod = try f.addPod(pods, 0, rate: "50mbit")
        XCTAssertTrue(pod.classifierAttached)
        // the outside sees only the node's address: masquerade is really on
        let conntrack = try f.node.run(["iptables", "-t", "nat", "-L", "POSTROUTING", "-v", "-n"]).stdout
        XCTAssertTrue(conntrack.contains("MASQUERADE"), conntrack)

        try f.ping(0, count: 10)
        let c = try XCTUnwrap(try shaper.list().classes.first { $0.classId == pod.classId })
        XCTAssertGreaterThanOrEqual(c.packets, 10, "the uplink found the pod's class for masqueraded packets")
        XCTAssertEqual(c.selector, f.podAddress(0) + "/32")

        // control: without the veth classifier the same packets carry no mark, and the uplink's
        // source-address lookup cannot find the pod behind the node's address
        XCTAssertEqual(try shaper.detachClassifier(hostInterface: f.hostVeth(0)), "removed the pod classifier from hpod0 ingress")
        let before = try XCTUnwrap(try shaper.list().classes.first { $0.classId == pod.classId }).packets
        try f.ping(0, count: 10)
        let after = try XCTUnwrap(try shaper.list().classes.first { $0.classId == pod.classId }).packets
        XCTAssertEqual(after, before, "no mark: masqueraded packets are not matched by address")
    }

    func testAPodCannotChooseAClassWithItsOwnMark() throws {
        let f = try PodNetworkFixture(podCount: 2)
        let shaper = f.shaper()
        let pods = f.podShaping(shaper)
        let limited = try f.addPod(pods, 0, rate: "20mbit")
        // pod 1 (no class) marks its own packets with pod 0's class id in the class bits
        let forged = limited.classId << AgentConfig.Shaping.defaultMarkMask.trailingZeroBitCount
        let program = "import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            + "s.setsockopt(socket.SOL_SOCKET,36,int(sys.argv[2]))\n"  // SO_MARK (needs CAP_NET_ADMIN in the pod)
            + "for _ in range(20): s.sendto(b'x'*100,(sys.argv[1],9))\n"
        try f.pods[1].run(["python3", "-c", program, f.outsideAddress, String(forged)])
        let c = try XCTUnwrap(try shaper.list().classes.first { $0.classId == limited.classId })
        XCTAssertEqual(c.packets, 0, "the forged mark was scrubbed at the namespace boundary")
        try f.ping(0, count: 5)
        XCTAssertEqual(try XCTUnwrap(try shaper.list().classes.first { $0.classId == limited.classId }).packets, 5,
                       "pod 0's own packets are counted")
    }

    func testTheMarkMaskIsHonouredAndZeroTurnsTheMarkOff() throws {
        let f = try PodNetworkFixture(podCount: 1)
        let shaper = f.shaper(markMask: 0)
        let pods = f.podShaping(shaper)
        let pod = try f.addPod(pods, 0, rate: "50mbit")
        try f.ping(0, count: 5)
        XCTAssertEqual(try XCTUnwrap(try shaper.list().classes.first { $0.classId == pod.classId }).packets, 0,
                       "mark_mask = 0: the class is not carried across masquerade")
        // other mark bits set on the node (kube-proxy's 0x4000) are kept beside ours
        let g = try PodNetworkFixture(podCount: 1)
        let shaper2 = g.shaper(markMask: 0x0000_7FF0)
        let pods2 = g.podShaping(shaper2)
        let pod2 = try g.addPod(pods2, 0, rate: "50mbit")
        try g.ping(0, count: 5)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(try shaper2.list().classes.first { $0.classId == pod2.classId }).packets, 5,
                                    "a custom mask carries the class")
    }

    func testTwoPodsOneLimitedTheOtherUnaffected() throws {
        let f = try PodNetworkFixture(podCount: 2)
        let shaper = f.shaper()
        let pods = f.podShaping(shaper)
        _ = try f.addPod(pods, 0, rate: "20mbit")
        // both pods at once: pod 0 limited, pod 1 free
        var limited: TCPRateProbe.Result?, free: TCPRateProbe.Result?
        var errors: [Error] = []
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do {
                // 5 s after 1 s of warm-up: under policing a single loss episode moves a 3 s window
                let r = try f.measure(i, warmup: 1, seconds: 5)
                lock.withLock { if i == 0 { limited = r } else { free = r } }
            } catch {
                lock.withLock { errors.append(error) }
            }
        }
        XCTAssertTrue(errors.isEmpty, "\(errors)")
        let l = try XCTUnwrap(limited), u = try XCTUnwrap(free)
        print("two pods: limited \(l.bitsPerSecond / 1e6) Mbit/s (class 20 Mbit/s), free \(u.bitsPerSecond / 1e6) Mbit/s")
        XCTAssertEqual(l.bitsPerSecond / 20e6, 1, accuracy: 0.10,
                       "limited pod: \(l.bitsPerSecond / 1e6) Mbit/s for a 20 Mbit/s class")
        XCTAssertGreaterThan(u.bitsPerSecond, 100e6, "the other pod is unaffected: \(u.bitsPerSecond / 1e6) Mbit/s")
        let c = try XCTUnwrap(try shaper.list().classes.first)
        XCTAssertGreaterThan(c.bytes, 7_000_000, "the pod's class counted its masqueraded stream")
    }

    func testDeleteIsIdempotentAndRestoreForgetsPodsWhoseVethIsGone() throws {
        let f = try PodNetworkFixture(podCount: 2)
        let shaper = f.shaper()
        let pods = f.podShaping(shaper)
        _ = try f.addPod(pods, 0, rate: "20mbit")
        _ = try f.addPod(pods, 1, rate: "30mbit")
        XCTAssertEqual(pods.selectors(), [f.podAddress(0) + "/32", f.podAddress(1) + "/32"])

        // a reboot: the maps are gone (reset unpins them), the state file is not
        let saved = try Data(contentsOf: URL(fileURLWithPath: f.stateDir + "/cni-classes.json"))
        _ = try shaper.reset()
        XCTAssertTrue(try shaper.list().classes.isEmpty)
        try saved.write(to: URL(fileURLWithPath: f.stateDir + "/cni-classes.json"))
        try f.node.run(["ip", "link", "delete", f.hostVeth(1)])  // pod 1 went away meanwhile
        let fresh = f.shaper()
        let lines = f.podShaping(fresh).restore()
        XCTAssertEqual(lines.count, 2, "\(lines)")
        let classes = try fresh.list().classes
        XCTAssertEqual(classes.map(\.selector), [f.podAddress(0) + "/32"], "pod 0 re-created, pod 1 forgotten")
        XCTAssertEqual(classes.first?.rate.bitsPerSecond, 20_000_000)
        XCTAssertTrue(fresh.classifierAttached(hostInterface: f.hostVeth(0)))
        let restored = f.podShaping(fresh)
        XCTAssertEqual(try restored.check(ShapingPodRef(containerId: "container-0", ifname: "eth0")).rate.bitsPerSecond, 20_000_000)

        // DEL twice, and for a container never seen
        let first = try restored.delete(ShapingPodRef(containerId: "container-0", ifname: "eth0"))
        XCTAssertTrue(first.actions.contains("removed the pod classifier from hpod0 ingress"), "\(first.actions)")
        XCTAssertTrue(try fresh.list().classes.isEmpty)
        XCTAssertEqual(try restored.delete(ShapingPodRef(containerId: "container-0", ifname: "eth0")).actions,
                       ["no pod class for container container-0 (eth0): nothing to do"])
        XCTAssertEqual(try restored.delete(ShapingPodRef(containerId: "unknown", ifname: "eth0")).actions,
                       ["no pod class for container unknown (eth0): nothing to do"])
        XCTAssertThrowsError(try restored.check(ShapingPodRef(containerId: "container-0", ifname: "eth0")))
    }

    func testInvalidPodRequestsChangeNothing() throws {
        let f = try PodNetworkFixture(podCount: 1)
        let shaper = f.shaper()
        let pods = f.podShaping(shaper)
        func params(_ host: String, _ addresses: [String], _ rate: String) -> ShapingPodAddParams {
            ShapingPodAddParams(containerId: "c", ifname: "eth0", hostInterface: host, addresses: addresses, rate: rate)
        }
        XCTAssertThrowsError(try pods.add(params("hpod0", [], "20mbit"))) {
            XCTAssertTrue("\($0)".contains("at least one address"), "\($0)")
        }
        XCTAssertThrowsError(try pods.add(params("hpod0", ["10.207.0.0/24"], "20mbit"))) {
            XCTAssertTrue("\($0)".contains("without a prefix length"), "\($0)")
        }
        XCTAssertThrowsError(try pods.add(params("nosuchveth", [f.podAddress(0)], "20mbit"))) {
            XCTAssertTrue("\($0)".contains("nosuchveth"), "\($0)")
        }
        XCTAssertThrowsError(try pods.add(params("hpod0", [f.podAddress(0)], "fast")))
        XCTAssertTrue(try shaper.list().classes.isEmpty, "a failed add leaves no class")
        XCTAssertTrue(pods.selectors().isEmpty, "and no record")
    }
}
