@testable import EdgeAgent
import EdgeCore
import EdgeTestSupport
import Foundation
import XCTest

final class ShapingZZExperiment: XCTestCase {
    func testExperiment() throws {
        let env = ProcessInfo.processInfo.environment
        guard let rate = env["EXP_RATE"] else { throw XCTSkip("experiment") }
        let f = try ShapingFixture()
        if let cc = env["EXP_CC"] { try f.tx.run(["sysctl", "-w", "net.ipv4.tcp_congestion_control=\(cc)"]) }
        if let ecn = env["EXP_ECN"] { try f.tx.run(["sysctl", "-w", "net.ipv4.tcp_ecn=\(ecn)"]) }
        if let tso = env["EXP_TSO"] { try f.tx.run(["ethtool", "-K", "veth0", "tso", tso, "gso", tso], check: false) }
        let shaper = f.shaper()
        try shaper.setup()
        _ = try shaper.set(ShapingSetParams(selector: f.txAddress, rate: rate, horizon: env["EXP_HORIZON"]))
        let r = try TCPRateProbe.measure(sender: f.tx.name, receiver: f.rx.name, address: f.rxAddress, warmup: 0.5, seconds: 3)
        let c = try shaper.list().classes[0]
        print("EXP rate=\(rate) cc=\(env["EXP_CC"] ?? "-") ecn=\(env["EXP_ECN"] ?? "-") horizon=\(c.horizonSeconds) measured=\(r.bitsPerSecond/1e6) Mbit/s drops=\(c.drops) marks=\(c.ecnMarks) pkts=\(c.packets) bytes=\(c.bytes)")
    }
}
