@testable import EdgeRPC
import Foundation
import XCTest

/// The write rule from connect-time credentials: uid 0, or the admin group. (The CapEff rule
/// these tests used to check is gone: capabilities cannot be bound to a connection, see
/// SECURITY.md; RPCNonRootPeerTests attacks it through a user namespace and an exec.)
final class RPCPermissionTests: XCTestCase {
    func testRootMayWriteWithoutAnAdminGroup() {
        XCTAssertTrue(RPCPermission().canWrite(uid: 0, gid: 0, groups: []))
        XCTAssertTrue(RPCPermission().canWrite(uid: 0, gid: 65534, groups: []))
        XCTAssertTrue(RPCPermission(adminGroup: 4242).canWrite(uid: 0, gid: 0, groups: []))
    }

    func testNonRootNeedsTheAdminGroup() {
        XCTAssertFalse(RPCPermission().canWrite(uid: 1000, gid: 1000, groups: [27, 4242]))
        let rule = RPCPermission(adminGroup: 4242)
        XCTAssertTrue(rule.canWrite(uid: 1000, gid: 4242, groups: []), "primary gid")
        XCTAssertTrue(rule.canWrite(uid: 1000, gid: 1000, groups: [27, 4242]), "supplementary gid")
        XCTAssertFalse(rule.canWrite(uid: 1000, gid: 1000, groups: [27, 4243]))
        XCTAssertFalse(rule.canWrite(uid: 65534, gid: 65534, groups: []))
        XCTAssertFalse(rule.canWrite(uid: UInt32.max, gid: UInt32.max, groups: []), "unidentified")
    }

    func testGroupsWireDropsTheZeroPadding() {
        var wire = PeerGroupsWire()
        wire.a[0] = 27
        wire.a[1] = 4242
        XCTAssertEqual(wire.gids.count, PeerGroupsWire.capacity)
        XCTAssertEqual(MemoryLayout<PeerGroupsWire>.size, PeerGroupsWire.capacity * 4)
        XCTAssertEqual(PeerCredentials.groups(wire), [27, 4242])
    }
}
