// Every interval: read the kernel counters, /proc/stat and /proc/net/snmp once, turn them into
// one interval's deltas, and fold that into the sliding window. The latest window is what RPC,
// /metrics and the controller push serve; readers never touch the kernel.
import EdgeTelemetry
import Foundation

/// One reading of every source, taken at one monotonic instant.
struct CollectorReading {
    var at: ContinuousClock.Instant
    var kernel: KernelCounters
    var cpu: CPUTicks?
    var tcp: TCPSegmentCounters?
    /// The scoped cgroup's CPU (telemetry.cgroup); when set it replaces /proc/stat's.
    var cgroupCPU: CgroupCPUSample?
}

public final class TelemetryCollector: @unchecked Sendable {
    public let kernel: KernelTelemetry
    public let node: String
    public let agentVersion: String
    private let snmpPath: String
    /// telemetry.cgroup's CPU figures; nil = the host's /proc/stat.
    private let cgroupCPU: CgroupCPUReader?
    // state below is guarded by `lock`: ticks come from one task, reads from RPC/HTTP handlers
    private let lock = NSLock()
    private var aggregator: TelemetryAggregator
    private var previous: CollectorReading?
    private var latest: TelemetryWindow
    private var tickCount: UInt64 = 0
    private var lastError: String?

    public init(kernel: KernelTelemetry, node: String, agentVersion: String,
                aggregator: TelemetryAggregator, snmpPath: String = ProcNetSNMP.path,
                cgroupCPU: CgroupCPUReader? = nil) {
        self.cgroupCPU = cgroupCPU
        self.kernel = kernel
        self.node = node
        self.agentVersion = agentVersion
        self.aggregator = aggregator
        self.snmpPath = snmpPath
        latest = TelemetryWindow(node: node, agentVersion: agentVersion,
                                 generatedAt: Date().timeIntervalSince1970, windowSeconds: 0)
    }

    /// Reads every source and, from the second call on, adds one interval to the window.
    /// A source that fails leaves its signal absent for this interval; the error is kept for status.
    @discardableResult
    public func tick() throws -> TelemetryWindow {
        let reading = try read()
        lock.lock()
        defer { lock.unlock() }
        if let prev = previous {
            aggregator.add(Self.interval(from: prev, to: reading, reasonName: kernel.reasonName))
        }
        previous = reading
        tickCount += 1
        latest = aggregator.window(node: node, agentVersion: agentVersion, now: Date().timeIntervalSince1970)
        return latest
    }

    /// Replaces the drop weights (config reload); the next window uses them.
    public func setDropWeights(_ weights: [String: Double], default defaultWeight: Double) {
        lock.lock()
        defer { lock.unlock() }
        aggregator.dropWeights = weights
        aggregator.defaultDropWeight = defaultWeight
    }

    /// The weight a drop reason has in the weighted drop rate right now.
    public func dropWeight(of reason: String) -> Double {
        lock.lock()
        defer { lock.unlock() }
        return aggregator.weight(ofDropReason: reason)
    }

    /// The window as of the last tick.
    public func window() -> TelemetryWindow {
        lock.lock()
        defer { lock.unlock() }
        return latest
    }

    public var ticks: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return tickCount
    }

    /// The last non-fatal source error (e.g. /proc/net/snmp unreadable), for `agent.status`.
    public var sourceError: String? {
        lock.lock()
        defer { lock.unlock() }
        return lastError
    }

    private func read() throws -> CollectorReading {
        let kernelCounters = try kernel.read()
        var errors: [String] = []
        var cpu: CPUTicks?
        var tcp: TCPSegmentCounters?
        var scoped: CgroupCPUSample?
        if let cgroupCPU {
            do { scoped = try cgroupCPU.read() } catch { errors.append("\(error)") }
        } else {
            do { cpu = try ProcStat.readCPUTicks() } catch { errors.append("\(error)") }
        }
        do { tcp = try ProcNetSNMP.readTCPSegments(path: snmpPath) } catch { errors.append("\(error)") }
        lock.lock()
        lastError = errors.isEmpty ? nil : errors.joined(separator: "; ")
        lock.unlock()
        return CollectorReading(at: .now, kernel: kernelCounters, cpu: cpu, tcp: tcp, cgroupCPU: scoped)
    }

    /// Deltas between two readings. Counters only grow in the kernel; a peer entry that the LRU
    /// map evicted and re-created reads lower than before, and then counts from zero.
    static func interval(from a: CollectorReading, to b: CollectorReading,
                         reasonName: (Int) -> String) -> TelemetryInterval {
        let d = a.at.duration(to: b.at)
        var iv = TelemetryInterval(duration: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        for (kind, now) in b.kernel.histograms { iv.histograms[kind] = now.subtractingWrapping(a.kernel[kind]) }
        for (kind, now) in b.kernel.counters { iv.counters[kind] = now &- a.kernel[kind] }
        for (peer, now) in b.kernel.peers {
            let delta: LogLinearHistogram
            if let before = a.kernel.peers[peer], zip(now.counts, before.counts).allSatisfy({ $0 >= $1 }) {
                delta = now.subtractingWrapping(before)
            } else {
                delta = now
            }
            if !delta.isEmpty { iv.peerRTT[peer] = delta }
        }
        for (reason, n) in b.kernel.drops {
            let delta = n &- a.kernel.drops[reason, default: 0]
            if delta > 0 { iv.drops[reasonName(reason), default: 0] += delta }
        }
        if let ca = a.cpu, let cb = b.cpu {
            let c = cb.delta(since: ca)
            iv.counters[.cpuBusyTicks] = c.busy
            iv.counters[.cpuTotalTicks] = c.total
        }
        if let ga = a.cgroupCPU, let gb = b.cgroupCPU {
            let c = CgroupCPU.ticks(from: ga, to: gb, elapsedSeconds: iv.duration)
            iv.counters[.cpuBusyTicks] = c.busy
            iv.counters[.cpuTotalTicks] = c.total
        }
        if let ta = a.tcp, let tb = b.tcp {
            iv.counters[.segmentsOut] = tb.delta(since: ta).outSegs
        }
        return iv
    }
}
