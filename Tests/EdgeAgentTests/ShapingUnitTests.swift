// Pure logic of the shaper: selectors, default route, horizons, map layouts, metrics.
import EdgeAPI
@testable import EdgeAgent
import EdgeBPF
import EdgeConfig
import EdgeCore
import EdgeTelemetry
import Foundation
import XCTest

final class ShapingUnitTests: XCTestCase {
    func testIPv4AndIPv6PrefixesParseAndPrintCanonically() throws {
        XCTAssertEqual(try IPPrefix(parsing: "10.0.0.5").description, "10.0.0.5/32")
        XCTAssertEqual(try IPPrefix(parsing: "10.1.0.0/16").description, "10.1.0.0/16")
        XCTAssertEqual(try IPPrefix(parsing: "0.0.0.0/0").description, "0.0.0.0/0")
        XCTAssertEqual(try IPPrefix(parsing: "fd00:0:0::/64").description, "fd00::/64")
        XCTAssertEqual(try IPPrefix(parsing: "2001:DB8::1").description, "2001:db8::1/128")
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:1.2.3.4").mappedAddress, try IPPrefix(parsing: "1.2.3.4").mappedAddress)
        let v4 = try IPPrefix(parsing: "192.168.0.0/24")
        XCTAssertEqual(v4.trieLength, 120)
        XCTAssertEqual(withUnsafeBytes(of: edt_prefix_key(v4)) { Array($0) },
                       [120, 0, 0, 0] + [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 192, 168, 0, 0])
        XCTAssertEqual(edt_prefix_key(v4).prefix, v4)
        let v6 = try IPPrefix(parsing: "fd00:1:2::/48")
        XCTAssertEqual(edt_prefix_key(v6).prefix, v6)
    }

    func testBadPrefixesAreRefusedWithTheReason() {
        func reason(_ text: String) -> String {
            do {
                _ = try IPPrefix(parsing: text)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(reason("10.0.0.1/33").contains("prefix length \"33\" must be 0…32"), reason("10.0.0.1/33"))
        XCTAssertTrue(reason("10.1.2.3/16").contains("did you mean 10.1.0.0/16?"), reason("10.1.2.3/16"))
        XCTAssertTrue(reason("fd00::1/64").contains("did you mean fd00::/64?"), reason("fd00::1/64"))
        XCTAssertTrue(reason("300.0.0.1").contains("is not an IPv4 or IPv6 address"))
        XCTAssertTrue(reason("1:2:3:4:5:6:7:8:9").contains("is not an IPv4 or IPv6 address"))
        XCTAssertTrue(reason("fe80::1%eth0").contains("zone ids"))
        XCTAssertTrue(reason("1::2::3").contains("is not an IPv4 or IPv6 address"))
    }

    func testUnitSelectorsMapToSystemdCgroupPaths() throws {
        XCTAssertEqual(try ShapingSelector.unitPath("nginx.service", selector: "x", root: "/cg"), "/cg/system.slice/nginx.service")
        XCTAssertEqual(try ShapingSelector.unitPath("a-b-c.slice", selector: "x", root: "/cg"), "/cg/a.slice/a-b.slice/a-b-c.slice")
        XCTAssertThrowsError(try ShapingSelector.unitPath("foo.timer", selector: "unit:foo.timer", root: "/cg")) {
            XCTAssertTrue("\($0)".contains("must be a .service or a .slice"))
        }
        XCTAssertThrowsError(try ShapingSelector.unitPath("a b.service", selector: "unit:a b.service", root: "/cg"))
    }

    func testMissingCgroupIsNamed() {
        XCTAssertThrowsError(try ShapingSelector.parse("unit:edgetest-none.service", cgroupRoot: "/sys/fs/cgroup/unified")) {
            XCTAssertEqual("\($0)", "cgroup of \"unit:edgetest-none.service\" does not exist: no cgroup2 directory /sys/fs/cgroup/unified/system.slice/edgetest-none.service")
        }
        XCTAssertThrowsError(try ShapingSelector.parse("cgroup:relative/path", cgroupRoot: "/cg")) {
            XCTAssertTrue("\($0)".contains("must be absolute"))
        }
        XCTAssertThrowsError(try ShapingSelector.parse("cgroup:/x", cgroupRoot: nil)) {
            XCTAssertTrue("\($0)".contains("no cgroup2 filesystem"))
        }
    }

    func testDefaultRouteDeviceIsTheLowestMetricDefault() {
        let table = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
            eth0\t00000000\t010011AC\t0003\t0\t0\t100\t00000000\t0\t0\t0
            eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
            """
        XCTAssertEqual(DefaultRouteDevice.parse(table), "eth0")
        XCTAssertNil(DefaultRouteDevice.parse("Iface\tDestination\n eth0\t000011AC\t0\t0001\t0\t0\t0\t0000FFFF\n"))
        XCTAssertThrowsError(try DefaultRouteDevice.find(routeTable: "/nonexistent/route"))
    }

    func testHorizonIsDerivedFromTheRateAndValidated() throws {
        XCTAssertEqual(ShapingHorizon.derived(for: try BandwidthRate(parsing: "20mbit")), 0.1048576, accuracy: 1e-9)
        XCTAssertEqual(ShapingHorizon.derived(for: try BandwidthRate(parsing: "100gbit")), 0.005)
        XCTAssertEqual(ShapingHorizon.derived(for: try BandwidthRate(parsing: "1mbit")), 1.0)
        XCTAssertEqual(ShapingHorizon.derived(for: try BandwidthRate(parsing: "20mbit"), policing: true), 0.3,
                       "policing horizons outlast TCP's 200 ms minimum RTO")
        XCTAssertEqual(ShapingHorizon.derived(for: try BandwidthRate(parsing: "1mbit"), policing: true), 1.0)
        let rate = try BandwidthRate(parsing: "1gbit")
        XCTAssertEqual(try ShapingHorizon.resolve(explicit: "40ms", configured: 2, rate: rate), 0.04, accuracy: 1e-12)
        XCTAssertEqual(try ShapingHorizon.resolve(explicit: nil, configured: 2, rate: rate), 2)
        XCTAssertThrowsError(try ShapingHorizon.resolve(explicit: "2m", configured: nil, rate: rate)) {
            XCTAssertEqual("\($0)", "invalid horizon \"2m\": must be between 1ms and 60s")
        }
        XCTAssertThrowsError(try ShapingHorizon.resolve(explicit: "5", configured: nil, rate: rate)) {
            XCTAssertTrue("\($0)".contains("missing unit"))
        }
    }

    /// The class record is bpf/edt.h's struct itself; its bytes are what the BPF program reads.
    func testClassRecordIsTheMapLayout() {
        var r = edt_class(rateBytesPerSecond: 12_500_000_000, horizonNs: 5_000_000, ecn: true)
        r.t_last = 0x0102_0304_0506_0708
        r.drops = 7
        let bytes = withUnsafeBytes(of: r) { Array($0) }
        XCTAssertEqual(bytes.count, 64)
        XCTAssertEqual(Array(bytes[16..<24]), [8, 7, 6, 5, 4, 3, 2, 1], "t_last at offset 16, little-endian")
        XCTAssertEqual(bytes[56], 1, "flags at offset 56")
        XCTAssertEqual(bytes.withUnsafeBytes { $0.loadUnaligned(as: edt_class.self) }.drops, 7)
        XCTAssertTrue(r.ecn)
        XCTAssertEqual(edt_class_meta(text: "10.0.0.0/8")!.text, "10.0.0.0/8")
        XCTAssertEqual(edt_class_meta(text: String(repeating: "x", count: 119))!.text.count, 119)
        XCTAssertNil(edt_class_meta(text: String(repeating: "x", count: 120)))
    }

    func testMountTableFindsCgroup2AndBPFFS() {
        let text = """
            22 1 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw
            30 22 0:26 / /sys/fs/cgroup ro shared:9 - tmpfs tmpfs ro,mode=755
            31 30 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw
            40 22 0:33 / /sys/fs/bpf rw shared:15 - bpf bpf rw,mode=700
            41 1 0:40 / /mnt/with\\040space rw - ext4 /dev/sda1 rw
            """
        let table = MountTable(mountinfo: text)
        XCTAssertEqual(table.mountPoints(ofType: "cgroup2"), ["/sys/fs/cgroup/unified"])
        XCTAssertEqual(table.mount(containing: "/sys/fs/bpf/edgenode")?.fsType, "bpf")
        XCTAssertEqual(table.mount(containing: "/sys/fs/bpfx")?.fsType, "sysfs")
        XCTAssertEqual(table.mount(containing: "/mnt/with space/x")?.fsType, "ext4")
    }

    func testMetricsExposePerClassCounters() throws {
        let agentMetrics = AgentMetrics()
        let metrics = ShapingMetrics(registry: agentMetrics.registry)
        func info(_ bytes: UInt64, drops: UInt64) throws -> ShapingClassInfo {
            ShapingClassInfo(selector: "10.0.0.0/8", kind: "prefix", classId: 1, rate: try BandwidthRate(parsing: "20mbit"),
                             horizonSeconds: 0.1, ecn: true, bytes: bytes, packets: 3, drops: drops, ecnMarks: 1)
        }
        metrics.update([try info(1000, drops: 2)])
        metrics.update([try info(1500, drops: 2)])
        let text = String(decoding: agentMetrics.exposition(), as: UTF8.self)
        XCTAssertTrue(text.contains(#"edgenode_shaping_bytes_total{class="10.0.0.0/8"} 1500"#), text)
        XCTAssertTrue(text.contains(#"edgenode_shaping_drops_total{class="10.0.0.0/8"} 2"#), text)
        XCTAssertTrue(text.contains(#"edgenode_shaping_ecn_marks_total{class="10.0.0.0/8"} 1"#), text)
        XCTAssertTrue(text.contains(#"edgenode_shaping_rate_bits_per_second{class="10.0.0.0/8"} 20000000"#), text)
        metrics.update([])
        XCTAssertFalse(String(decoding: agentMetrics.exposition(), as: UTF8.self).contains("edgenode_shaping_bytes_total{"),
                       "a deleted class's series go away")
    }

    func testHostCongestionControlConfigKey() throws {
        func parse(_ value: String) throws -> AgentConfig {
            try AgentConfig.parse(text: "[shaping]\nhost_congestion_control = \"\(value)\"\n", file: "agent.toml")
        }
        XCTAssertEqual(try parse("bbr").shaping.hostCongestionControl, "bbr")
        XCTAssertNil(try parse("").shaping.hostCongestionControl, "empty leaves the host alone")
        XCTAssertNil(AgentConfig.defaults.shaping.hostCongestionControl)
        for bad in ["BBR", "bbr; reboot", "a_name_longer_than_15"] {
            XCTAssertThrowsError(try parse(bad)) { error in
                XCTAssertTrue("\(error)".contains("shaping.host_congestion_control: expected a TCP congestion control name such as \"bbr\""),
                              "\(error)")
                XCTAssertTrue("\(error)".hasSuffix("got \"\(bad)\""), "\(error)")
            }
        }
        var config = AgentConfig.defaults
        config.shaping.hostCongestionControl = "bbr"
        XCTAssertEqual(try AgentConfig.parse(text: config.tomlText, file: "rendered"), config)
        XCTAssertEqual(ShaperSettings(config: config).hostCongestionControl, "bbr")
    }

    func testHostCongestionControlErrorsNameTheFix() {
        XCTAssertEqual(HostCongestionControlError.unavailable(name: "bbr", available: ["reno", "cubic"]).description,
                       "TCP congestion control \"bbr\" is not available in this kernel (available: reno cubic): it needs "
                       + "CONFIG_TCP_CONG_BBR; load it with `modprobe tcp_bbr`")
        XCTAssertEqual(HostCongestionControlError.restricted(name: "cubic", allowed: ["reno", "bbr"]).description,
                       "TCP congestion control \"cubic\" is not allowed in this network namespace (allowed: reno bbr): "
                       + "add it to net.ipv4.tcp_allowed_congestion_control in the host's namespace")
        XCTAssertEqual(StateFileError(operation: "write", path: "/var/lib/edge-agent/qdisc-eth0.json", errno: ENOSPC,
                                      detail: "No space left on device").description,
                       "cannot write state file /var/lib/edge-agent/qdisc-eth0.json: No space left on device (ENOSPC); nothing was changed")
    }

    /// telemetry.get is the window's own object plus "shaping": a window-only client reads it
    /// unchanged, and the key is absent (not null) without shaping.
    func testAgentTelemetryFlattensTheWindowAndAddsShaping() throws {
        let window = TelemetryWindow(node: "n1", agentVersion: "1", generatedAt: 10, windowSeconds: 30, rttSamples: 4)
        let shaping = ShapingListResult(device: "eth0", status: "active", classes: [
            ShapingClassInfo(selector: "10.0.0.0/8", kind: "prefix", classId: 1, rate: try BandwidthRate(parsing: "20mbit"),
                             horizonSeconds: 0.1, ecn: true, bytes: 1500, packets: 3, drops: 2, ecnMarks: 1)])
        let data = try EdgeJSON.encoder().encode(AgentTelemetry(window: window, shaping: shaping))
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["node"] as? String, "n1")
        XCTAssertEqual(object["rtt_samples"] as? Int, 4)
        let classes = try XCTUnwrap((object["shaping"] as? [String: Any])?["classes"] as? [[String: Any]])
        XCTAssertEqual(classes.first?["ecn_marks"] as? Int, 1)
        XCTAssertEqual(classes.first?["drops"] as? Int, 2)
        XCTAssertEqual(try EdgeJSON.decoder().decode(AgentTelemetry.self, from: data), AgentTelemetry(window: window, shaping: shaping))
        XCTAssertEqual(try EdgeJSON.decoder().decode(TelemetryWindow.self, from: data), window)

        let off = try EdgeJSON.encoder().encode(AgentTelemetry(window: window, shaping: nil))
        XCTAssertNil((try JSONSerialization.jsonObject(with: off) as? [String: Any])?["shaping"])
        XCTAssertEqual(try EdgeJSON.decoder().decode(AgentTelemetry.self, from: off).shaping, nil)
    }
}
