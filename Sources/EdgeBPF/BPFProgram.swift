// One program of a loaded object, its attachment (a link) and its run statistics.
import CEdgeShim
import CLibbpf
import Glibc

public struct BPFProgram {
    let handle: OpaquePointer
    /// Keeps the object (and so the program fd) alive while the program is in use.
    let object: BPFObject

    public var name: String { String(cString: bpf_program__name(handle)) }
    public var fd: Int32 { bpf_program__fd(handle) }
    public var autoload: Bool { bpf_program__autoload(handle) }

    /// Attaches by the program's section (tp_btf/…, raw_tp/…): the link lives as long as the
    /// returned object.
    public func attach() throws -> BPFLink {
        guard let link = bpf_program__attach(handle) else {
            throw BPFError("attach \(name)", errno: errno, log: BPFLog.take())
        }
        return BPFLink(handle: link, program: self)
    }

    /// Cumulative run time and count (kernel.bpf_stats_enabled or a `BPFStats.enable()` token).
    public func stats() throws -> BPFProgramStats {
        var ns: UInt64 = 0, count: UInt64 = 0, id: UInt32 = 0
        try check(edge_bpf_prog_stats(fd, &ns, &count, &id), "read stats of \(name)")
        return BPFProgramStats(id: id, runTimeNs: ns, runCount: count)
    }
}

public struct BPFProgramStats: Sendable, Equatable {
    public var id: UInt32
    public var runTimeNs: UInt64
    public var runCount: UInt64

    /// Average cost per run between two readings, in ns.
    public func nsPerRun(since earlier: BPFProgramStats) -> Double? {
        let runs = runCount &- earlier.runCount
        guard runs > 0 else { return nil }
        return Double(runTimeNs &- earlier.runTimeNs) / Double(runs)
    }
}

public final class BPFLink {
    let handle: OpaquePointer
    public let programName: String
    private let program: BPFProgram

    init(handle: OpaquePointer, program: BPFProgram) {
        self.handle = handle
        self.program = program
        programName = program.name
    }

    /// Pins the link so it survives this process (bpffs must be mounted).
    public func pin(at path: String) throws {
        try check(bpf_link__pin(handle, path), "pin link \(programName) at \(path)")
    }

    deinit { bpf_link__destroy(handle) }
}

/// Turns on run-time statistics for as long as the token lives (BPF_ENABLE_STATS),
/// without touching the kernel.bpf_stats_enabled sysctl.
public final class BPFStatsToken {
    let fd: Int32
    public init() throws {
        let rc = bpf_enable_stats(BPF_STATS_RUN_TIME)
        guard rc >= 0 else { throw BPFError("enable BPF run-time stats", errno: -rc) }
        fd = rc
    }
    deinit { close(fd) }
}
