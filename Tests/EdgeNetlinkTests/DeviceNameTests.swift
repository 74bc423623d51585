// Issue 13: a device name is sent as a C string (IFLA_IFNAME), so "eth0\0evil" used to look up
// eth0. Names the kernel would refuse are refused before any request, with the reason.
import EdgeNetlink
import XCTest

final class DeviceNameTests: XCTestCase {
    private func reason(_ name: String) -> String? {
        do {
            try NetlinkSocket.validateDeviceName(name)
            return nil
        } catch {
            return "\(error)"
        }
    }

    func testNamesWithANulAreRefusedNotTruncated() {
        XCTAssertEqual(reason("eth0\u{0}evil"), "invalid device name 'eth0\\x00evil' (contains a NUL byte)")
        XCTAssertEqual(reason("\u{0}"), "invalid device name '\\x00' (contains a NUL byte)")
    }

    func testTheKernelsOtherRulesAreApplied() {
        let rule = "(1–15 bytes, not '.' or '..', no '/', ':', spaces or control characters)"
        XCTAssertEqual(reason(""), "invalid device name '' \(rule)")
        XCTAssertEqual(reason("0123456789abcdef"), "invalid device name '0123456789abcdef' \(rule)")
        XCTAssertEqual(reason(".."), "invalid device name '..' \(rule)")
        XCTAssertEqual(reason("eth0:1"), "invalid device name 'eth0:1' \(rule)")
        XCTAssertEqual(reason("eth\t0"), "invalid device name 'eth\\x090' \(rule)")
        XCTAssertEqual(reason("a/b"), "invalid device name 'a/b' \(rule)")
        XCTAssertNil(reason("eth0"))
        XCTAssertNil(reason("veth-a.100"))
        XCTAssertNil(reason("0123456789abcde"))
    }
}
