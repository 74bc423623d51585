// What the running kernel does with skb->tstamp when a pod's packet crosses its veth into the
// host namespace, and what follows for BBR (or any paced socket) inside pods.
//
// TCP stamps every packet with its pacing departure time (skb->tstamp, CLOCK_MONOTONIC; BBR
// always paces, other algorithms when SO_MAX_PACING_RATE is set or fq is absent). When a veth
// hands the packet to the peer in another namespace it calls skb_scrub_packet(skb, xnet=true):
//  - before 5.18 that cleared skb->tstamp unconditionally (and the forwarding paths cleared it
//    too: 8203e2d844d3 "net: clear skb->tstamp in forwarding paths", 4.20), so a pod's pacing
//    is lost at the veth: the uplink's EDT program sees tstamp 0 and the class's slot alone
//    decides. Pod BBR still probes and sets cwnd, but its paced departure times do not reach
//    the uplink's fq; the pod is paced only by the class (one aggregate per pod), and bursts
//    within the class's horizon are possible.
//  - 5.18 added skb->mono_delivery_time (a1ac9c8acec1 "net: Add skb->mono_delivery_time to
//    distinguish mono delivery_time from (rcv) timestamp", the series "Preserve mono delivery
//    time (EDT) in skb->tstamp"; 6.11 turned it into skb->tstamp_type): a delivery time survives
//    the netns crossing and forwarding (skb_clear_tstamp keeps it), so the uplink program sees
//    the pod's own pacing and edt.bpf.c keeps the later of the two times. Pod BBR keeps its
//    pacing end to end.
// The report is by kernel release: the change is not a feature that can be probed without
// sending traffic through a veth (backports to older stable kernels are not known to exist).
import Foundation

public enum NetnsTimestamps {
    public struct Report: Equatable, Sendable {
        public var kept: Bool?
        public var text: String
    }

    /// uname -r of the running kernel.
    public static func runningRelease() -> String {
        var u = utsname()
        uname(&u)
        return withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    public static func report(kernelRelease: String) -> Report {
        let parts = kernelRelease.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else {
            return Report(kept: nil, text: "unknown (kernel release \"\(kernelRelease)\" not understood)")
        }
        let kept = (parts[0], parts[1]) >= (5, 18)
        if kept {
            return Report(kept: true, text: "kept across the pod's veth (kernel \(kernelRelease) >= 5.18, mono delivery time): pod BBR pacing reaches the uplink, which keeps the later of the pod's and the class's departure time")
        }
        return Report(kept: false, text: "cleared at the pod's veth (kernel \(kernelRelease) < 5.18): pod BBR pacing is lost at the host; pods are paced by their class only")
    }
}
