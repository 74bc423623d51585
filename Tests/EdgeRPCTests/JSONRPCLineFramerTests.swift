import EdgeCore
import EdgeRPC
import Foundation
import XCTest

final class JSONRPCLineFramerTests: XCTestCase {
    private func lines(_ events: [JSONRPCLineFramer.Event]) -> [String] {
        events.compactMap { event in
            if case .line(let data) = event { return String(decoding: data, as: UTF8.self) }
            return nil
        }
    }

    func testCompleteLinesInOneChunk() {
        var framer = JSONRPCLineFramer(maxLineBytes: 64)
        let events = framer.feed(Array("{\"a\":1}\n{\"b\":2}\n".utf8))
        XCTAssertEqual(lines(events), ["{\"a\":1}", "{\"b\":2}"])
        XCTAssertEqual(framer.bufferedByteCount, 0)
        XCTAssertFalse(framer.hasPartialLine)
    }

    func testLinesSplitAcrossChunksByteByByte() {
        var framer = JSONRPCLineFramer(maxLineBytes: 64)
        var collected: [JSONRPCLineFramer.Event] = []
        for byte in Array("{\"method\":\"x\"}\n{\"id\":7}\n".utf8) {
            collected += framer.feed([byte])
        }
        XCTAssertEqual(lines(collected), ["{\"method\":\"x\"}", "{\"id\":7}"])
    }

    func testPartialLineIsHeldUntilItsNewline() {
        var framer = JSONRPCLineFramer(maxLineBytes: 64)
        XCTAssertEqual(framer.feed(Array("{\"id\":".utf8)), [])
        XCTAssertTrue(framer.hasPartialLine)
        XCTAssertEqual(framer.bufferedByteCount, 6)
        XCTAssertEqual(lines(framer.feed(Array("1}\n{\"i".utf8))), ["{\"id\":1}"])
        XCTAssertEqual(framer.bufferedByteCount, 3)
    }

    func testCRLFIsTolerated() {
        var framer = JSONRPCLineFramer(maxLineBytes: 64)
        XCTAssertEqual(lines(framer.feed(Array("{\"a\":1}\r\n{\"b\":2}\r".utf8))), ["{\"a\":1}"])
        // The CR of a CRLF split across chunks is dropped too.
        XCTAssertEqual(lines(framer.feed(Array("\n".utf8))), ["{\"b\":2}"])
    }

    func testEmptyAndBlankLinesAreIgnored() {
        var framer = JSONRPCLineFramer(maxLineBytes: 64)
        let events = framer.feed(Array("\n\r\n   \n\t\n{}\n\n".utf8))
        XCTAssertEqual(events, [.line(Data("{}".utf8))])
    }

    func testLineExactlyAtLimitIsAccepted() {
        var framer = JSONRPCLineFramer(maxLineBytes: 16)
        let exact = String(repeating: "x", count: 16)
        XCTAssertEqual(lines(framer.feed(Array((exact + "\n").utf8))), [exact])
        // The CR of CRLF does not count against the limit, even when it arrives alone.
        XCTAssertEqual(framer.feed(Array((exact + "\r").utf8)), [])
        XCTAssertEqual(lines(framer.feed(Array("\n".utf8))), [exact])
    }

    func testOneByteOverLimitIsOversizedThenFramingContinues() {
        var framer = JSONRPCLineFramer(maxLineBytes: 16)
        let over = String(repeating: "y", count: 17)
        let events = framer.feed(Array((over + "\n{\"ok\":true}\n").utf8))
        XCTAssertEqual(events, [.oversized(limit: 16), .line(Data("{\"ok\":true}".utf8))])
    }

    func testStreamedOversizedLineIsReportedOnceAndBufferStaysBounded() {
        var framer = JSONRPCLineFramer(maxLineBytes: 100)
        var events: [JSONRPCLineFramer.Event] = []
        let chunk = [UInt8](repeating: UInt8(ascii: "z"), count: 33)
        for _ in 0..<100 {  // 3300 bytes of one line
            events += framer.feed(chunk)
            XCTAssertLessThanOrEqual(framer.bufferedByteCount, 101)
        }
        XCTAssertEqual(events, [.oversized(limit: 100)])
        XCTAssertTrue(framer.hasPartialLine, "still discarding until the newline")
        // The rest of the long line up to its newline is dropped; the next line is intact.
        events = framer.feed(Array("zzz\n{\"id\":2}\n".utf8))
        XCTAssertEqual(events, [.line(Data("{\"id\":2}".utf8))])
        XCTAssertFalse(framer.hasPartialLine)
    }

    func testTwoOversizedLinesGiveTwoEvents() {
        var framer = JSONRPCLineFramer(maxLineBytes: 4)
        let events = framer.feed(Array("123456\n{}\n7890123\n".utf8))
        XCTAssertEqual(events, [.oversized(limit: 4), .line(Data("{}".utf8)), .oversized(limit: 4)])
    }

    func testLimitCountsBytesNotCharacters() {
        var framer = JSONRPCLineFramer(maxLineBytes: 4)
        // "éé" is 4 bytes, "ééé" is 6.
        XCTAssertEqual(lines(framer.feed(Array("éé\n".utf8))), ["éé"])
        XCTAssertEqual(framer.feed(Array("ééé\n".utf8)), [.oversized(limit: 4)])
    }

    func testFeedingDataWorks() {
        var framer = JSONRPCLineFramer()
        XCTAssertEqual(framer.maxLineBytes, 1_048_576)
        XCTAssertEqual(lines(framer.feed(Data("{}\n".utf8))), ["{}"])
    }
}
