// What the agent's services share: the collector, the settings and the start time. Read-only
// after start except through the collector's own lock.
import EdgeAPI
import EdgeConfig
import EdgeCore
import Foundation

public final class AgentState: @unchecked Sendable {
    public let config: AgentConfig
    public let node: String
    public let collector: TelemetryCollector
    public let startedAt: ContinuousClock.Instant
    /// Set once at start, before any service runs, when a controller URL is configured.
    var pusher: ReportPusher?
    /// Set once at start, before the RPC server runs, when shaping is enabled.
    var shaper: Shaper?
    /// Pod classes from CNI, with the shaper.
    var pods: PodShaping?
    /// Canonical selectors of the classes declared in [[shaping.class]].
    var configClassSelectors: Set<String> = []
    /// Why shaping could not even start (no rtnetlink), if so.
    var shapingFailure: String?

    init(config: AgentConfig, node: String, collector: TelemetryCollector) {
        self.config = config
        self.node = node
        self.collector = collector
        self.startedAt = .now
    }

    public func status() -> AgentStatus {
        let k = collector.kernel
        let attached = k.attached
        let up = startedAt.duration(to: .now)
        return AgentStatus(
            node: node, version: EdgenodeVersion.current, pid: getpid(),
            uptimeSeconds: Double(up.components.seconds) + Double(up.components.attoseconds) / 1e18,
            socket: config.rpc.socket, metricsListen: config.metrics.listen?.description,
            telemetry: .init(attached: attached, missing: k.missing, ticks: collector.ticks,
                             intervalSeconds: config.telemetry.intervalSeconds,
                             windowSeconds: config.telemetry.windowSeconds,
                             netns: config.telemetry.netns.rawValue, sourceError: collector.sourceError),
            shaping: shapingStatus,
            controller: pusher?.summary ?? "off",
            podTimestamps: NetnsTimestamps.report(kernelRelease: NetnsTimestamps.runningRelease()).text)
    }

    /// "disabled", the shaper's status line, or "failed (…)" when it could not start.
    var shapingStatus: String {
        guard config.shaping.enabled else { return "disabled" }
        if let shaper { return shaper.status }
        return "failed (\(shapingFailure ?? "not started"))"
    }

    /// The shaper's classes and counters for `telemetry.get`; nil when shaping is off or did not
    /// start. A map that cannot be read shows as the shaper's status with no classes, so the
    /// telemetry answer never fails because of shaping.
    func shapingCounters() -> ShapingListResult? {
        guard config.shaping.enabled, let shaper else { return nil }
        do {
            return try shaper.list()
        } catch {
            return ShapingListResult(device: shaper.deviceName, status: "counters unreadable: \(error)", classes: [])
        }
    }

    /// One line for `systemctl status` (STATUS=).
    public func summaryLine() -> String {
        let w = collector.window()
        func ms(_ v: Double?) -> String { v.map { String(format: "%.2fms", $0) } ?? "-" }
        let cpu = w.cpuUtilization.map { String(format: "%.0f%%", $0 * 100) } ?? "-"
        return "rtt p99 \(ms(w.rttP99Ms)) runqlat p95 \(ms(w.runqlatP95Ms)) drops \(String(format: "%.1f", w.dropRate))/s cpu \(cpu); controller \(pusher?.summary ?? "off")"
    }

    public func dropReasons() -> [DropReasonInfo] {
        let window = collector.window()
        let counts = Dictionary(window.drops.map { ($0.reason, $0.count) }, uniquingKeysWith: +)
        return collector.kernel.dropReasonNames
            .sorted { $0.key < $1.key }
            .map { DropReasonInfo(value: $0.key, name: $0.value,
                                  weight: collector.dropWeight(of: $0.value),
                                  windowCount: counts[$0.value, default: 0]) }
    }
}
