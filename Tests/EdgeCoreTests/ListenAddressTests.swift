@testable import EdgeConfig
import XCTest

final class ListenAddressTests: XCTestCase {
    func testAcceptedAddresses() throws {
        let cases: [(String, String, Int)] = [
            ("127.0.0.1:9464", "127.0.0.1", 9464),
            ("0.0.0.0:80", "0.0.0.0", 80),
            ("[::1]:9464", "::1", 9464),
            ("[::]:8477", "::", 8477),
            ("[fe80::1%eth0]:1", "fe80::1%eth0", 1),
            ("[2001:db8:0:0:0:0:2:1]:443", "2001:db8:0:0:0:0:2:1", 443),
            ("[::ffff:192.0.2.1]:65535", "::ffff:192.0.2.1", 65535),
            ("localhost:0", "localhost", 0),
            ("controller.example.org:8477", "controller.example.org", 8477),
        ]
        for (text, host, port) in cases {
            let a = try ListenAddress(parsing: text)
            XCTAssertEqual(a.host, host, text)
            XCTAssertEqual(a.port, port, text)
            XCTAssertEqual(a.description, text)
        }
    }

    func testRejectedAddresses() {
        let cases: [(String, String)] = [
            ("9464", "expected host:port, e.g. \"127.0.0.1:9464\""),
            (":9464", "missing host (use 0.0.0.0 or [::] for every address)"),
            ("::1:9464", "an IPv6 address must be written in brackets, e.g. \"[::1]:9464\""),
            ("[::1:9464", "missing \"]\" after the IPv6 address"),
            ("[::1]9464", "expected \":port\" after \"]\""),
            ("[1::2::3]:80", "\"1::2::3\" is not an IPv6 address"),
            ("[12345::1]:80", "\"12345::1\" is not an IPv6 address"),
            ("[1:2:3:4:5:6:7]:80", "\"1:2:3:4:5:6:7\" is not an IPv6 address"),
            ("[1.2.3.4::]:80", "\"1.2.3.4::\" is not an IPv6 address"),
            ("256.0.0.1:80", "\"256.0.0.1\" is not an IPv4 address"),
            ("10.0.0:80", "\"10.0.0\" is not an IPv4 address"),
            ("010.0.0.1:80", "\"010.0.0.1\" is not an IPv4 address"),
            ("bad_host:80", "\"bad_host\" is not a valid host name"),
            ("-x.org:80", "\"-x.org\" is not a valid host name"),
            ("127.0.0.1:65536", "port must be a number from 0 to 65535, got \"65536\""),
            ("127.0.0.1:", "port must be a number from 0 to 65535, got \"\""),
            ("127.0.0.1:http", "port must be a number from 0 to 65535, got \"http\""),
            ("127.0.0.1:+80", "port must be a number from 0 to 65535, got \"+80\""),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try ListenAddress(parsing: text), text) { error in
                XCTAssertEqual(error as? ListenAddress.Error, ListenAddress.Error(input: text, reason: reason))
            }
        }
    }

    func testIPv6Syntax() {
        for good in ["::", "::1", "1::", "fe80::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6::8", "::1.2.3.4",
                     "1:2:3:4:5:6:1.2.3.4", "ABCD::ef"] {
            XCTAssertTrue(IPAddressText.isIPv6(good), good)
        }
        for bad in ["", ":", ":::", "1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", ":1::", "g::1", "1::2:",
                    "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4", "fe80::1%", "fe80::1%a b"] {
            XCTAssertFalse(IPAddressText.isIPv6(bad), bad)
        }
    }
}
