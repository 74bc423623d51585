import CLibbpf
import EdgeNetlink
import EdgeTestSupport
import XCTest

final class FilterKernelTests: XCTestCase {
    /// A two-instruction SCHED_CLS program: `r0 = 0 (TC_ACT_OK); exit`.
    private func loadPassProgram(name: String) throws -> Int32 {
        var instructions = [bpf_insn](repeating: bpf_insn(), count: 2)
        instructions[0].code = 0xb7  // BPF_ALU64 | BPF_MOV | BPF_K
        instructions[0].imm = 0
        instructions[1].code = 0x95  // BPF_JMP | BPF_EXIT
        let fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, name, "GPL", instructions, instructions.count, nil)
        guard fd >= 0 else { throw NetlinkError(operation: "bpf_prog_load \(name)", errno: -fd) }
        return fd
    }

    func testClsactAndBPFFilterLifecycle() throws {
        let fixture = try KernelFixture()
        let socket = fixture.socket
        XCTAssertTrue(try socket.ensureClsact(on: "veth0"), "first call creates clsact")
        XCTAssertFalse(try socket.ensureClsact(on: "veth0"), "second call finds it")
        let clsact = try XCTUnwrap(try socket.listQdiscs(on: "veth0").first { $0.kind == "clsact" })
        XCTAssertEqual(clsact.parent, .clsactParent)
        XCTAssertEqual(clsact.handle, .clsactHandle)
        XCTAssertEqual(clsact.options, .clsact)

        let fd = try loadPassProgram(name: "edge_pass")
        defer { close(fd) }
        let spec = BPFFilterSpec(programFD: fd, name: "edge_pass", priority: 1, handle: 1)
        try socket.addBPFFilter(spec, on: "veth0", hook: .egress)

        let filters = try socket.listFilters(on: "veth0", hook: .egress)
        XCTAssertEqual(filters.count, 1)
        let filter = try XCTUnwrap(filters.first)
        XCTAssertEqual(filter.kind, "bpf")
        XCTAssertEqual(filter.priority, 1)
        XCTAssertEqual(filter.handle, 1)
        XCTAssertEqual(filter.protocolNumber, 0x0003)
        XCTAssertEqual(filter.bpfName, "edge_pass")
        XCTAssertEqual(filter.directAction, true)
        let programID = try XCTUnwrap(filter.bpfProgramID)
        var info = bpf_prog_info()
        var infoLength = UInt32(MemoryLayout<bpf_prog_info>.size)
        XCTAssertEqual(bpf_obj_get_info_by_fd(fd, &info, &infoLength), 0)
        XCTAssertEqual(programID, info.id)
        XCTAssertTrue(try socket.listFilters(on: "veth0", hook: .ingress).isEmpty)

        // Cross-check with tc: one bpf filter entry carrying our name, id and direct-action.
        let tcFilters = try fixture.tcJSON(["filter", "show", "dev", "veth0", "egress"])
        let tcEntry = try XCTUnwrap(tcFilters.first { ($0["options"] as? [String: Any])?["bpf_name"] != nil })
        let tcOptions = try XCTUnwrap(tcEntry["options"] as? [String: Any])
        XCTAssertEqual(tcEntry["kind"] as? String, "bpf")
        XCTAssertEqual(tcEntry["pref"] as? Int, 1)
        XCTAssertEqual(tcOptions["bpf_name"] as? String, "edge_pass")
        XCTAssertEqual(tcOptions["direct-action"] as? Bool, true)
        XCTAssertEqual((tcOptions["prog"] as? [String: Any])?["id"] as? Int, Int(programID))

        XCTAssertThrowsError(try socket.addBPFFilter(spec, on: "veth0", hook: .egress)) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, EEXIST, "\(error)")
        }

        // Replace swaps the program behind the same prio/handle.
        let second = try loadPassProgram(name: "edge_pass2")
        defer { close(second) }
        try socket.replaceBPFFilter(BPFFilterSpec(programFD: second, name: "edge_pass2", priority: 1, handle: 1),
                                    on: "veth0", hook: .egress)
        let swapped = try socket.listFilters(on: "veth0", hook: .egress)
        XCTAssertEqual(swapped.map(\.bpfName), ["edge_pass2"])
        XCTAssertNotEqual(swapped.first?.bpfProgramID, programID)

        try socket.deleteFilter(on: "veth0", hook: .egress, priority: 1, handle: 1)
        XCTAssertTrue(try socket.listFilters(on: "veth0", hook: .egress).isEmpty)
        XCTAssertTrue(try fixture.tcJSON(["filter", "show", "dev", "veth0", "egress"]).isEmpty)
        XCTAssertThrowsError(try socket.deleteFilter(on: "veth0", hook: .egress, priority: 1, handle: 1)) { error in
            XCTAssertEqual((error as? NetlinkError)?.errno, ENOENT, "\(error)")
        }
    }

    func testFilterWithoutClsactNamesTheProblem() throws {
        let fixture = try KernelFixture()
        let fd = try loadPassProgram(name: "edge_pass")
        defer { close(fd) }
        XCTAssertThrowsError(try fixture.socket.addBPFFilter(BPFFilterSpec(programFD: fd, name: "edge_pass"),
                                                             on: "veth0", hook: .ingress)) { error in
            let netlink = error as? NetlinkError
            XCTAssertNotNil(netlink, "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("filter add bpf 'edge_pass' on veth0 ingress:"), "\(error)")
            XCTAssertNotNil(netlink?.extack, "the kernel explains why: \(error)")
        }
    }
}
