// Starting the shaper inside edge-agent, and keeping its Prometheus counters fresh. A shaper
// that cannot start never stops the agent: the status line and the log say why.
import EdgeAPI
import EdgeConfig
import EdgeNetlink
import Foundation
import Logging
import ServiceLifecycle

public enum ShapingStartup {
    /// Sets shaping up for the agent. Returns the shaper (possibly degraded, or failed with its
    /// status saying why) or nil with the reason when not even a netlink socket could be opened.
    public static func start(config: AgentConfig, logger: Logger) -> (shaper: Shaper?, failure: String?) {
        guard config.shaping.enabled else { return (nil, nil) }
        let netlink: NetlinkSocket
        do {
            netlink = try NetlinkSocket()
        } catch {
            logger.error("shaping unavailable: cannot open rtnetlink (shaping.enabled = true): \(error); the agent runs without shaping")
            return (nil, "cannot open rtnetlink (shaping.enabled = true): \(error)")
        }
        let shaper = Shaper(settings: ShaperSettings(config: config), netlink: netlink, logger: logger)
        // Touch the device only when there is something to shape: a fresh node gets its qdiscs
        // and filter with the first class (shaping.set); a restart with pinned classes adopts
        // them at once so shaping has no gap.
        guard shaper.hasPinnedState else {
            shaper.markIdle()
            logger.info("shaping idle: nothing pinned under \(config.shaping.pinPath); the datapath attaches with the first class")
            return (shaper, nil)
        }
        do {
            let r = try shaper.setup()
            logger.info("shaping \(r.status) on \(r.device): qdisc \(r.qdiscAction), filter \(r.filterChanged ? "installed" : "unchanged") (program \(r.programId)\(r.programAdopted ? ", adopted" : "")), \(r.classes) classes")
        } catch {
            logger.error("shaping setup failed: \(error); the agent runs without shaping")
        }
        return (shaper, nil)
    }
}

extension ShapingStartup {
    /// After start: the classes of [[shaping.class]] are (re)applied, and when the maps started
    /// empty (a reboot) the pod classes recorded for CNI are re-created. Failures are logged
    /// with the class they concern; the agent runs on.
    public static func restoreClasses(shaper: Shaper?, config: AgentConfig, logger: Logger)
        -> (pods: PodShaping?, configSelectors: Set<String>) {
        guard let shaper else { return (nil, []) }
        let pods = PodShaping(shaper: shaper, stateDirectory: config.agent.stateDir, logger: logger)
        var selectors: Set<String> = []
        for c in config.shaping.classes {
            do {
                let info = try shaper.set(ShapingSetParams(selector: c.selector, rate: c.rate, horizon: c.horizon))
                selectors.insert(info.selector)
            } catch {
                logger.error("[[shaping.class]] selector \"\(c.selector)\": not applied: \(error)")
            }
        }
        // idempotent: with pinned maps (a restart) the classes are only confirmed and the
        // classifiers moved to this agent's program; with empty maps (a reboot) they are re-created
        for line in pods.restore() { logger.notice("\(line)") }
        return (pods, selectors)
    }
}

/// Refreshes the per-class counters every `interval`.
struct ShapingMetricsService: Service {
    let shaper: Shaper
    let metrics: ShapingMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var lastError: String?
            while !Task.isCancelled {
                do {
                    metrics.update(try shaper.list().classes)
                    lastError = nil
                } catch {
                    let text = "\(error)"
                    if text != lastError { logger.warning("cannot read shaping counters: \(text)") }
                    lastError = text
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

extension ShapingMetricsService {
    /// The service for the agent's group, or nil without a shaper.
    static func make(shaper: Shaper?, agentMetrics: AgentMetrics, intervalSeconds: Double, logger: Logger) -> ShapingMetricsService? {
        guard let shaper else { return nil }
        return ShapingMetricsService(shaper: shaper, metrics: ShapingMetrics(registry: agentMetrics.registry),
                                     interval: .milliseconds(Int64(intervalSeconds * 1000)), logger: logger)
    }
}
