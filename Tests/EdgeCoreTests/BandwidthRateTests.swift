@testable import EdgeCore
import Foundation
import XCTest

final class BandwidthRateTests: XCTestCase {
    private func bits(_ text: String) throws -> UInt64 { try BandwidthRate(parsing: text).bitsPerSecond }

    func testTCStyleUnitsAreDecimalAndCaseInsensitive() throws {
        XCTAssertEqual(try bits("50mbit"), 50_000_000)
        XCTAssertEqual(try bits("50Mbit"), 50_000_000)
        XCTAssertEqual(try bits("1.5Gbit"), 1_500_000_000)
        XCTAssertEqual(try bits("8000kbit"), 8_000_000)
        XCTAssertEqual(try bits("10gbit"), 10_000_000_000)
        XCTAssertEqual(try bits("100GBIT"), 100_000_000_000)
        XCTAssertEqual(try bits("0.1tbit"), 100_000_000_000)
        XCTAssertEqual(try bits("2000000bit"), 2_000_000)
    }

    func testTCBpsMeansBytesPerSecond() throws {
        XCTAssertEqual(try bits("12mbps"), 96_000_000)
        XCTAssertEqual(try bits("1gbps"), 8_000_000_000)
        XCTAssertEqual(try bits("125000bps"), 1_000_000)
        XCTAssertEqual(try bits("1MiBps"), 8 * 1_048_576)
        XCTAssertEqual(try bits("2mibit"), 2 * 1_048_576)
    }

    func testKubernetesQuantities() throws {
        XCTAssertEqual(try bits("50M"), 50_000_000)
        XCTAssertEqual(try bits("1G"), 1_000_000_000)
        XCTAssertEqual(try bits("1500k"), 1_500_000)
        XCTAssertEqual(try bits("10Mi"), 10_485_760)
        XCTAssertEqual(try bits("1Gi"), 1_073_741_824)
        XCTAssertEqual(try bits("0.1T"), 100_000_000_000)
    }

    func testPlainNumbersAreBitsPerSecond() throws {
        XCTAssertEqual(try bits("1000000"), 1_000_000)
        XCTAssertEqual(try bits("100000000000"), 100_000_000_000)
    }

    func testOurOwnTextFormParsesBack() throws {
        for text in ["50mbit", "1.5gbit", "10Mi", "8000kbit", "100gbit", "1000001"] {
            let r = try BandwidthRate(parsing: text)
            XCTAssertEqual(try BandwidthRate(parsing: r.description), r, r.description)
        }
    }

    func testDescription() throws {
        XCTAssertEqual(try BandwidthRate(parsing: "50mbit").description, "50Mbit/s")
        XCTAssertEqual(try BandwidthRate(parsing: "1.5gbit").description, "1.5Gbit/s")
        XCTAssertEqual(try BandwidthRate(parsing: "8000kbit").description, "8Mbit/s")
        XCTAssertEqual(try BandwidthRate(parsing: "1500k").description, "1.5Mbit/s")
        XCTAssertEqual(try BandwidthRate(parsing: "10Mi").description, "10.48576Mbit/s")
        XCTAssertEqual(try BandwidthRate(bitsPerSecond: 100_000_000_000).description, "100Gbit/s")
    }

    func testRangeIsOneMegabitToHundredGigabitInclusive() throws {
        XCTAssertEqual(try bits("1mbit"), BandwidthRate.minimum)
        XCTAssertEqual(try bits("100gbit"), BandwidthRate.maximum)
        XCTAssertThrowsError(try BandwidthRate(parsing: "999999")) {
            XCTAssertTrue("\($0)".hasPrefix("invalid rate \"999999\": 999.999kbit/s is outside 1Mbit/s to 100Gbit/s. Accepted:"), "\($0)")
        }
        XCTAssertThrowsError(try BandwidthRate(parsing: "100.001gbit")) {
            XCTAssertTrue("\($0)".contains("100.001Gbit/s is outside 1Mbit/s to 100Gbit/s"), "\($0)")
        }
        XCTAssertThrowsError(try BandwidthRate(parsing: "800kbit")) {  // a tc form, but below the range
            XCTAssertTrue("\($0)".contains("800kbit/s is outside 1Mbit/s to 100Gbit/s"), "\($0)")
        }
        XCTAssertThrowsError(try BandwidthRate(parsing: "1E"))  // 1e18 bit/s
        XCTAssertThrowsError(try BandwidthRate(bitsPerSecond: 0))
    }

    func testRejectedForms() {
        let cases: [(String, String)] = [
            ("", "empty"),
            ("fast", "expected a number first"),
            ("-5mbit", "expected a number first"),
            ("1..5mbit", "\"1..5\" is not a number"),
            ("100m", "in a Kubernetes quantity \"m\" means milli (100m = 100/1000 bit/s); write \"100M\" or \"100mbit\" for megabits per second"),
            ("500K", "\"K\" is not a unit; write \"500k\" or \"500kbit\" for kilobits per second"),
            ("5g", "unknown unit \"g\""),
            ("5 mbit", "unknown unit \" mbit\""),
            ("5mb", "unknown unit \"mb\""),
        ]
        for (input, reason) in cases {
            XCTAssertThrowsError(try BandwidthRate(parsing: input), input) { error in
                XCTAssertEqual(error as? BandwidthRate.ParseError, BandwidthRate.ParseError(input: input, reason: reason))
                XCTAssertTrue("\(error)".contains("Accepted: tc units"), "\(error)")
            }
        }
    }

    func testCodableAsText() throws {
        struct Body: Codable, Equatable { var rate: BandwidthRate }
        let body = Body(rate: try BandwidthRate(parsing: "50mbit"))
        let data = try JSONEncoder().encode(body)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"{"rate":"50Mbit\/s"}"#)
        XCTAssertEqual(try JSONDecoder().decode(Body.self, from: Data(#"{"rate":"1G"}"#.utf8)).rate.bitsPerSecond,
                       1_000_000_000)
        XCTAssertThrowsError(try JSONDecoder().decode(Body.self, from: Data(#"{"rate":"100m"}"#.utf8)))
    }

    func testBytesPerSecond() throws {
        XCTAssertEqual(try BandwidthRate(parsing: "8mbit").bytesPerSecond, 1_000_000)
    }
}
