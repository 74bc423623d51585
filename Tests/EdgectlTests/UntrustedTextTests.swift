// Issue 13 finding 12: node names and agent versions come from anyone holding the controller
// token; edgectl's tables must not let them move the cursor, forge rows or stretch columns.
@testable import edgectl
import EdgeAPI
import XCTest

final class UntrustedTextTests: XCTestCase {
    private func node(_ name: String, version: String = "0.1.0", rtt: Double? = 1.5, score: Double = 0.25) -> NodeSummary {
        NodeSummary(node: name, agentVersion: version, lastSeenSecondsAgo: 2, reportCount: 3, stale: false,
                    signals: [.retransRate: 0.001, .dropRate: 0, .dropRateWeighted: 0, .runqlatP95: 0.1, .cpu: 0.5]
                        .merging(rtt.map { [.rttP99: $0] } ?? [:]) { a, _ in a }, scoreRaw: score, scoreSmoothed: score, priority: 7)
    }

    /// No byte below 0x20 (but the row separators) and no DEL, C1 or bidi control survives.
    private func assertPrintable(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        for scalar in text.unicodeScalars where scalar != "\n" {
            let v = scalar.value
            XCTAssertFalse(v < 0x20 || v == 0x7f || (0x80..<0xa0).contains(v) || (0x202a...0x202e).contains(v)
                           || (0x2066...0x2069).contains(v),
                           "control character U+\(String(v, radix: 16)) printed", file: file, line: line)
        }
    }

    func testEscapesAndNewlinesCannotForgeRows() {
        let forged = "evil\r\nfake-node  fresh  1s ago  99  0.01  0.0000  0.00  0.01  1.0%  0.000  0.000  10  0.1.0"
        let out = NodesCommand.render([
            node(forged, version: "\u{1b}[2J\u{1b}[31mred\u{1b}[0m"),
            node("honest", version: "1.0\u{7f}\u{9b}31m\u{202e}txt"),
        ])
        assertPrintable(out)
        let rows = out.split(separator: "\n")
        XCTAssertEqual(rows.count, 3, "header + one row per node, whatever the names hold:\n\(out)")
        XCTAssertTrue(rows[1].hasPrefix("evil\\x0d\\x0afake-node"), String(rows[1]))
        XCTAssertTrue(rows[1].hasSuffix("\\x1b[2J\\x1b[31mred\\x1b[0m"), String(rows[1]))
        XCTAssertTrue(rows[2].hasSuffix("1.0\\x7f\\u{9b}31m\\u{202e}txt"), String(rows[2]))
    }

    func testLongTextIsCutToABoundedWidth() {
        let out = NodesCommand.render([node(String(repeating: "n", count: 10_000), version: String(repeating: "v", count: 5_000))])
        let row = String(out.split(separator: "\n")[1])
        XCTAssertTrue(row.hasPrefix(String(repeating: "n", count: Fmt.maxTextWidth) + "…"), row)
        XCTAssertLessThan(row.count, 400, row)
        // an escape sequence is never cut in half
        let cut = Fmt.text(String(repeating: "a", count: Fmt.maxTextWidth - 2) + "\u{1b}")
        XCTAssertEqual(cut, String(repeating: "a", count: Fmt.maxTextWidth - 2) + "…")
    }

    func testHugeAndNonFiniteNumbersKeepTheLayout() {
        let out = NodesCommand.render([node("big", rtt: 1e308, score: 1e308), node("inf", rtt: .infinity, score: -.infinity),
                                       node("nan", rtt: .nan, score: .nan)])
        let rows = out.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.count, 4)
        XCTAssertTrue(rows[1].contains("1e+308"), rows[1])
        XCTAssertTrue(rows[2].contains("inf") && rows[2].contains("-inf"), rows[2])
        XCTAssertTrue(rows[3].contains("nan"), rows[3])
        XCTAssertLessThan(rows.map(\.count).max()!, 200, out)
        XCTAssertEqual(Fmt.fixed(1e308, 3), "1e+308")
        XCTAssertEqual(Fmt.fixed(-1e12, 2), "-1e+12")
        XCTAssertEqual(Fmt.fixed(0.25, 3), "0.250")
        XCTAssertEqual(Fmt.seconds(1e308), "2.78e+304h")
        XCTAssertEqual(Fmt.seconds(.infinity), "infs")
        XCTAssertEqual(Fmt.percent(1e300), "1e+302%")
    }
}
