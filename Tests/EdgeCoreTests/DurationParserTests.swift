@testable import EdgeCore
import XCTest

final class DurationParserTests: XCTestCase {
    func testAcceptedForms() throws {
        XCTAssertEqual(try DurationParser.seconds("250ms"), 0.25)
        XCTAssertEqual(try DurationParser.seconds("100ms"), 0.1)
        XCTAssertEqual(try DurationParser.seconds("1s"), 1)
        XCTAssertEqual(try DurationParser.seconds("1.5s"), 1.5)
        XCTAssertEqual(try DurationParser.seconds(".5s"), 0.5)
        XCTAssertEqual(try DurationParser.seconds("2m"), 120)
        XCTAssertEqual(try DurationParser.seconds("1h"), 3600)
        XCTAssertEqual(try DurationParser.seconds("1m30s"), 90)
        XCTAssertEqual(try DurationParser.seconds("1h2m3s"), 3723)
        XCTAssertEqual(try DurationParser.seconds("500us"), 0.0005)
        XCTAssertEqual(try DurationParser.seconds("500µs"), 0.0005)
        XCTAssertEqual(try DurationParser.seconds("0s"), 0)
    }

    func testRejectedForms() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("abc", "expected a number at \"abc\""),
            ("5", "missing unit after \"5\" (use h, m, s, ms or us)"),
            ("5sec", "unknown unit \"sec\" (use h, m, s, ms or us)"),
            ("1.2.3s", "\"1.2.3\" is not a number"),
            ("-1s", "expected a number at \"-1s\""),
            (" 1s", "expected a number at \" 1s\""),
            ("1s ", "unknown unit \"s \" (use h, m, s, ms or us)"),
            ("1d", "unknown unit \"d\" (use h, m, s, ms or us)"),
        ]
        for (input, reason) in cases {
            XCTAssertThrowsError(try DurationParser.seconds(input), input) { error in
                XCTAssertEqual(error as? DurationParser.Error, DurationParser.Error(input: input, reason: reason))
            }
        }
    }

    func testFormatPicksTheLargestWholeUnitAndRoundTrips() throws {
        let cases: [(Double, String)] = [
            (0, "0s"), (0.25, "250ms"), (0.1, "100ms"), (1, "1s"), (1.5, "1500ms"), (90, "90s"),
            (120, "2m"), (3600, "1h"), (7200, "2h"), (0.0005, "500us"), (1e-7, "0.0000001s"),
        ]
        for (seconds, text) in cases {
            XCTAssertEqual(DurationParser.format(seconds: seconds), text)
            XCTAssertEqual(try DurationParser.seconds(text), seconds, accuracy: 1e-15, text)
        }
    }
}
