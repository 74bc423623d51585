// Each qdisc kind prints its own options in tc's words (what `edgectl qdisc` shows); the kernel
// cross-check against `tc -j` is in the agent's QdiscShowMatchesTC test.
import EdgeNetlink
import XCTest

final class QdiscPrinterTests: XCTestCase {
    func testEachKindPrintsItsOptionsInTcWords() {
        XCTAssertEqual(FQOptions().tcWords, "", "unset fields are not printed")
        XCTAssertEqual(FQOptions(limit: 10000, flowLimit: 100, quantum: 3028, initialQuantum: 15140, maxRate: UInt32.max,
                                 ceThresholdMicroseconds: 2000, horizonMicroseconds: 2_000_000, horizonDrop: true).tcWords,
                       "limit 10000 flow_limit 100 quantum 3028 initial_quantum 15140 maxrate unlimited ce_threshold 2000us "
                       + "horizon 2000000us horizon_drop")
        XCTAssertEqual(FQOptions(maxRate: 125_000, horizonDrop: false).tcWords, "maxrate 1000000bit horizon_cap")
        XCTAssertEqual(TBFOptions(rate: 100_000_000, burst: 32768, limit: 102_400).tcWords,
                       "rate 800000000bit burst 32768b limit 102400b")
        XCTAssertEqual(HTBOptions(defaultClass: 0x10).tcWords, "default 10 r2q 10")
        XCTAssertEqual(HTBOptions(defaultClass: 1, rateToQuantum: 5, directQueueLength: 1000).tcWords,
                       "default 1 r2q 5 direct_qlen 1000")
        XCTAssertEqual(QdiscOptions.mq.tcWords, "")
        XCTAssertEqual(QdiscOptions.clsact.tcWords, "")
        XCTAssertEqual(QdiscOptions.fq(FQOptions(limit: 5)).tcWords, "limit 5")
        XCTAssertEqual(QdiscOptions.other(kind: "pfifo_fast", raw: [1, 2, 3]).tcWords, "(3 bytes of options)")
        XCTAssertEqual(QdiscOptions.other(kind: "noqueue", raw: []).tcWords, "")
    }
}
