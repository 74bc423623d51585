// BPF_PROG_TEST_RUN for tc programs: run a loaded program on a crafted packet with a chosen
// __sk_buff context, and read back the verdict, the packet and the context it left.
import CEdgeShim
import CLibbpf
import Glibc

/// The `__sk_buff` fields BPF_PROG_TEST_RUN lets a caller set for a tc program (the kernel
/// refuses a context with any other field set) and copies back after the run.
public struct SKBTestContext: Sendable, Equatable {
    /// skb->tstamp in ns (CLOCK_MONOTONIC at egress: the EDT departure time).
    public var tstamp: UInt64 = 0
    /// qdisc_skb_cb->pkt_len; 0 lets the kernel use the packet's length.
    public var wireLength: UInt32 = 0
    /// skb_shinfo->gso_segs and gso_size: > 0 makes the packet a GSO super-packet.
    public var gsoSegments: UInt32 = 0
    public var gsoSize: UInt32 = 0
    public var mark: UInt32 = 0
    public var priority: UInt32 = 0
    /// Device the skb pretends to use (0 or 1: loopback).
    public var ifindex: UInt32 = 0

    public init(tstamp: UInt64 = 0, wireLength: UInt32 = 0, gsoSegments: UInt32 = 0, gsoSize: UInt32 = 0,
                mark: UInt32 = 0, priority: UInt32 = 0, ifindex: UInt32 = 0) {
        self.tstamp = tstamp
        self.wireLength = wireLength
        self.gsoSegments = gsoSegments
        self.gsoSize = gsoSize
        self.mark = mark
        self.priority = priority
        self.ifindex = ifindex
    }

    var skb: __sk_buff {
        var s = __sk_buff()
        s.tstamp = tstamp
        s.wire_len = wireLength
        s.gso_segs = gsoSegments
        s.gso_size = gsoSize
        s.mark = mark
        s.priority = priority
        s.ifindex = ifindex
        return s
    }

    init(_ s: __sk_buff) {
        self.init(tstamp: s.tstamp, wireLength: s.wire_len, gsoSegments: s.gso_segs, gsoSize: s.gso_size,
                  mark: s.mark, priority: s.priority, ifindex: s.ifindex)
    }
}

/// What one BPF_PROG_TEST_RUN returned.
public struct BPFTestRunResult: Sendable, Equatable {
    /// The program's return value (for tc: TC_ACT_OK = 0, TC_ACT_SHOT = 2, …).
    public var returnValue: UInt32
    /// The packet as the program left it.
    public var packet: [UInt8]
    /// The context after the run (tstamp as the program set it).
    public var context: SKBTestContext
    /// Average run time per repetition, as the kernel measured it.
    public var durationNs: UInt32
}

extension BPFProgram {
    /// Runs the program `repeat` times on `packet` (an Ethernet frame for tc programs) with
    /// `context` as its __sk_buff, through BPF_PROG_TEST_RUN.
    public func testRun(packet: [UInt8], context: SKBTestContext = SKBTestContext(),
                        repeat: UInt32 = 1) throws -> BPFTestRunResult {
        precondition(!packet.isEmpty, "BPF_PROG_TEST_RUN needs a packet")
        var skb = context.skb
        // room for programs that grow the packet (encapsulation); ours never do
        var out = [UInt8](repeating: 0, count: packet.count + 256)
        var outSize = UInt32(out.count)
        var retval: UInt32 = 0, duration: UInt32 = 0
        let rc = packet.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                withUnsafeMutablePointer(to: &skb) { ctx in
                    edge_bpf_test_run(fd, input.baseAddress, UInt32(input.count), output.baseAddress, &outSize,
                                      ctx, UInt32(MemoryLayout<__sk_buff>.size), &retval, `repeat`, &duration)
                }
            }
        }
        try check(rc, "BPF_PROG_TEST_RUN of \(name)")
        return BPFTestRunResult(returnValue: retval, packet: Array(out.prefix(Int(outSize))),
                                context: SKBTestContext(skb), durationNs: duration)
    }
}
