// Issue 13, finding 7 and the ::/0 rule, without root: one selector has one spelling and one
// class key; ambiguous spellings are refused; IPv6 entries carry the IPv6-only flag.
@testable import EdgeAgent
import XCTest

final class SelectorAliasTests: XCTestCase {
    func testIPv4MappedPrefixesAreTheIPv4Prefix() throws {
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:10.77.0.1/128").description, "10.77.0.1/32")
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:10.77.0.1").description, "10.77.0.1/32")
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:a4d:1").description, "10.77.0.1/32", "hex spelling of the same address")
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:10.0.0.0/120").description, "10.0.0.0/24")
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:0:0/96").description, "0.0.0.0/0")
        XCTAssertTrue(try IPPrefix(parsing: "::ffff:10.77.0.1/128").isIPv4)
        XCTAssertEqual(try IPPrefix(parsing: "::ffff:10.77.0.1/128").trieKey, try IPPrefix(parsing: "10.77.0.1/32").trieKey)
        // shorter than /96 it is an IPv6 prefix (it also covers non-mapped addresses)
        XCTAssertFalse(try IPPrefix(parsing: "::fffe:0:0/95").isIPv4)
        XCTAssertThrowsError(try IPPrefix(parsing: "::ffff:10.77.0.1/120")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 10.77.0.0/24?"), "\(error)")
        }
    }

    func testAmbiguousSpellingsAreRefused() {
        for (text, reason) in [("1.2.3.4::", "may only end an IPv6 address"), ("1.2.3.4::/32", "may only end an IPv6 address"),
                               ("01.02.03.004", "leading zero"), ("10.077.0.1/32", "leading zero"),
                               ("::ffff:010.1.1.1", "leading zero")] {
            XCTAssertThrowsError(try IPPrefix(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(text): \(error)")
            }
        }
        XCTAssertNoThrow(try IPPrefix(parsing: "0.0.0.0/0"))
        XCTAssertNoThrow(try IPPrefix(parsing: "::ffff:0.0.0.0/96"))
        XCTAssertNoThrow(try IPPrefix(parsing: "64:ff9b::192.0.2.1"))
    }

    func testClassKeysMatchAcrossSpellingsAndRecordedTexts() throws {
        let a = try ShapingSelector.parse("10.77.0.1/32", cgroupRoot: nil)
        let b = try ShapingSelector.parse("::ffff:10.77.0.1/128", cgroupRoot: nil)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.classKey, b.classKey)
        // a class an older agent recorded under the mapped spelling is found by either spelling
        let recorded: [UInt32: String] = [4: "::ffff:10.77.0.1/128", 5: "fd00::/64"]
        XCTAssertEqual(ClassTable.classId(of: a.classKey, in: recorded), 4)
        XCTAssertEqual(ClassTable.classId(of: try ShapingSelector.parse("fd00:0::/64", cgroupRoot: nil).classKey, in: recorded), 5)
        XCTAssertNil(ClassTable.classId(of: try ShapingSelector.parse("10.77.0.2", cgroupRoot: nil).classKey, in: recorded))
    }

    func testIPv6EntriesAreFlaggedIPv6Only() throws {
        XCTAssertEqual(EDTPrefixValue.encode(classId: 3, try IPPrefix(parsing: "0.0.0.0/0")), 3)
        XCTAssertEqual(EDTPrefixValue.encode(classId: 3, try IPPrefix(parsing: "::/0")), 3 | 0x8000_0000)
        XCTAssertEqual(EDTPrefixValue.classId(3 | 0x8000_0000), 3)
    }
}
