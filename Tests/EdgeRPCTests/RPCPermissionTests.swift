@testable import EdgeRPC
import Foundation
import XCTest

final class RPCPermissionTests: XCTestCase {
    private let netAdminOnly: UInt64 = 1 << 12

    func testRootMayWriteWhateverItsCapabilities() {
        XCTAssertTrue(RPCPermission.canWrite(uid: 0, effectiveCapabilities: nil))
        XCTAssertTrue(RPCPermission.canWrite(uid: 0, effectiveCapabilities: 0))
    }

    func testNonRootNeedsCapNetAdmin() {
        XCTAssertTrue(RPCPermission.canWrite(uid: 1000, effectiveCapabilities: netAdminOnly))
        XCTAssertTrue(RPCPermission.canWrite(uid: 1000, effectiveCapabilities: 0x1ff_ffff_ffff))
        // CAP_NET_RAW (13) and CAP_NET_BIND_SERVICE (10) are not enough.
        XCTAssertFalse(RPCPermission.canWrite(uid: 1000, effectiveCapabilities: (1 << 13) | (1 << 10)))
        XCTAssertFalse(RPCPermission.canWrite(uid: 1000, effectiveCapabilities: 0))
        XCTAssertFalse(RPCPermission.canWrite(uid: 65534, effectiveCapabilities: nil))
    }

    func testCapEffIsParsedFromProcStatusText() {
        let status = """
            Name:\tedgectl
            Uid:\t1000\t1000\t1000\t1000
            CapInh:\t0000000000000000
            CapPrm:\t0000000000001000
            CapEff:\t0000000000001000
            CapBnd:\t000001ffffffffff
            """
        XCTAssertEqual(RPCPermission.effectiveCapabilities(procStatus: status), netAdminOnly)
        XCTAssertNil(RPCPermission.effectiveCapabilities(procStatus: "Name:\tx\nCapPrm:\t0000000000001000\n"))
        XCTAssertNil(RPCPermission.effectiveCapabilities(procStatus: "CapEff:\tzz00000000001000\n"))
        XCTAssertNil(RPCPermission.effectiveCapabilities(procStatus: "CapEff:\t\n"))
        XCTAssertNil(RPCPermission.effectiveCapabilities(procStatus: "CapEff:\t10000000000000000\n"))
    }

    func testOwnProcStatusIsReadable() throws {
        let caps = try XCTUnwrap(PeerCredentials.readEffectiveCapabilities(pid: getpid()))
        // Whatever we run as, the parsed mask must agree with the permission the kernel gave us.
        if getuid() == 0 {
            XCTAssertNotEqual(caps, 0, "root in the init namespace has a non-empty CapEff")
        }
        XCTAssertNil(PeerCredentials.readEffectiveCapabilities(pid: -1))
    }
}
