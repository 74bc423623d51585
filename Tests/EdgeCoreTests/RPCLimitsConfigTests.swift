// Issue 13: the [rpc] keys that bound one client's share (batch size, connections per uid,
// idle time) and the agent's admin group: defaults, round trip, clear errors.
@testable import EdgeConfig
import XCTest

final class RPCLimitsConfigTests: XCTestCase {
    private func agent(_ text: String) throws -> AgentConfig { try AgentConfig.parse(text: text, file: "/etc/edgenode/agent.toml") }
    private func controller(_ text: String) throws -> ControllerConfig {
        try ControllerConfig.parse(text: text, file: "/etc/edgenode/controller.toml")
    }

    func testDefaultsAndValues() throws {
        let d = try agent("")
        XCTAssertEqual(d.rpc.maxBatch, 64)
        XCTAssertEqual(d.rpc.maxClientsPerUID, 64)
        XCTAssertEqual(d.rpc.idleTimeoutSeconds, 60)
        XCTAssertNil(d.rpc.adminGroup)
        let c = try agent("[rpc]\nmax_batch = 8\nmax_clients_per_uid = 4\nidle_timeout = \"5s\"\nadmin_group = \"edgeadm\"")
        XCTAssertEqual(c.rpc.maxBatch, 8)
        XCTAssertEqual(c.rpc.maxClientsPerUID, 4)
        XCTAssertEqual(c.rpc.idleTimeoutSeconds, 5)
        XCTAssertEqual(c.rpc.adminGroup, "edgeadm")
        XCTAssertEqual(try agent(c.tomlText).rpc, c.rpc, "--check-config output reads back the same")
        XCTAssertEqual(try controller("[rpc]\nmax_batch = 3").rpc.maxBatch, 3)
    }

    func testBadValuesNameTheKey() {
        XCTAssertEqual(rejection("[rpc]\nmax_batch = 0", by: agent),
                       "/etc/edgenode/agent.toml: rpc.max_batch: must be between 1 and 10000, got 0")
        XCTAssertEqual(rejection("[rpc]\nmax_clients_per_uid = 0", by: agent),
                       "/etc/edgenode/agent.toml: rpc.max_clients_per_uid: must be between 1 and 65536, got 0")
        XCTAssertEqual(rejection("[rpc]\nidle_timeout = \"0s\"", by: agent),
                       #"/etc/edgenode/agent.toml: rpc.idle_timeout: must be between 1s and 24h, got "0s""#)
        XCTAssertEqual(rejection("[rpc]\nadmin_group = \"a b\"", by: agent),
                       #"/etc/edgenode/agent.toml: rpc.admin_group: expected a group name (letters, digits, "_", "-", "."; at most 32), got "a b""#)
        // The controller has no write method, so no admin group.
        XCTAssertTrue(rejection("[rpc]\nadmin_group = \"edgeadm\"", by: controller).contains("rpc.admin_group"))
    }

    /// Issue 13: a NUL or control byte in shaping.device would name a prefix of it in netlink.
    func testDeviceNamesWithControlBytesAreRefused() {
        XCTAssertFalse(AgentConfig.isInterfaceName("eth0\u{0}x"))
        XCTAssertFalse(AgentConfig.isInterfaceName("eth0\u{1b}"))
        XCTAssertFalse(AgentConfig.isInterfaceName("eth0\u{7f}"))
        XCTAssertTrue(AgentConfig.isInterfaceName("eth0.100"))
    }
}
