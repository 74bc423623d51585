@testable import EdgeTelemetry
import XCTest

final class ProcNetSNMPTests: XCTestCase {
    // Copied from a 6.18 machine.
    static let sample = """
        Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits
        Ip: 2 64 801 0 0 0 0 0 801 458 0 0 0 0 0 0 0 0 0 458
        Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps
        Icmp: 1 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
        IcmpMsg: InType3
        IcmpMsg: 1
        Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
        Tcp: 1 200 120000 -1 12 2 1 0 0 779 437 3 0 1 0
        Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
        Udp: 21 0 0 22 0 0 0 0 0
        UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
        UdpLite: 0 0 0 0 0 0 0 0 0

        """

    func testTCPCountersOfARealFile() throws {
        XCTAssertEqual(try ProcNetSNMP.parseTCPSegments(Self.sample), TCPSegmentCounters(outSegs: 437, retransSegs: 3))
        let tcp = try ProcNetSNMP.parseSection(Self.sample, prefix: "Tcp")
        XCTAssertEqual(tcp["MaxConn"], "-1")
        XCTAssertEqual(tcp.count, 15)
    }

    func testColumnsAreFoundByNameNotPosition() throws {
        let text = """
            Tcp: RetransSegs Extra OutSegs
            Tcp: 7 99 18446744073709551615
            """
        XCTAssertEqual(try ProcNetSNMP.parseTCPSegments(text),
                       TCPSegmentCounters(outSegs: UInt64.max, retransSegs: 7))
    }

    func testMalformedTextIsReported() {
        func reason(_ text: String) -> String {
            do {
                _ = try ProcNetSNMP.parseTCPSegments(text)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(reason("Udp: A\nUdp: 1\n"), "/proc/net/snmp: no \"Tcp:\" lines")
        XCTAssertEqual(reason("Tcp: OutSegs RetransSegs\n"), "/proc/net/snmp: \"Tcp:\" header line without a value line")
        XCTAssertEqual(reason("Tcp: OutSegs RetransSegs\nTcp: 1\n"),
                       "/proc/net/snmp: \"Tcp:\" header has 2 columns but the value line has 1")
        XCTAssertEqual(reason("Tcp: OutSegs InSegs\nTcp: 1 2\n"), "/proc/net/snmp: Tcp has no RetransSegs column")
        XCTAssertEqual(reason("Tcp: OutSegs RetransSegs\nTcp: 1 -2\n"),
                       "/proc/net/snmp: Tcp RetransSegs is not an unsigned integer: \"-2\"")
        XCTAssertEqual(reason("Tcp: OutSegs RetransSegs\nTcp: 1 2\nTcp: 3 4\n"),
                       "/proc/net/snmp: expected 2 \"Tcp:\" lines (header and values), found 3")
        // "TcpExt:" (from /proc/net/netstat) is a different protocol, not "Tcp:".
        XCTAssertEqual(reason("TcpExt: OutSegs RetransSegs\nTcpExt: 1 2\n"), "/proc/net/snmp: no \"Tcp:\" lines")
    }

    func testDeltaWraps() {
        let older = TCPSegmentCounters(outSegs: UInt64.max - 1, retransSegs: 5)
        let newer = TCPSegmentCounters(outSegs: 3, retransSegs: 9)
        XCTAssertEqual(newer.delta(since: older), TCPSegmentCounters(outSegs: 5, retransSegs: 4))
    }

    func testReadsTheRealFile() throws {
        let a = try ProcNetSNMP.readTCPSegments()
        XCTAssertGreaterThanOrEqual(a.outSegs, a.retransSegs)
    }
}
