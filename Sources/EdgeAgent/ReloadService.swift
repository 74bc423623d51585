// SIGHUP (systemctl reload): re-read the config file. A file that no longer parses is refused
// with its reason and the running config stays; settings that can change live are applied,
// the others are named as needing a restart rather than silently ignored.
import EdgeCore
import EdgeSystemd
import Logging
import ServiceLifecycle
import UnixSignals

struct ReloadService: Service {
    /// SIGHUPs, trapped by the daemon at start-up (see AgentDaemon.run) and buffered until `run`.
    let signals: UnixSignalsSequence
    let configPath: String?
    let running: AgentConfig
    let collector: TelemetryCollector
    let notifier: SDNotifier
    let logger: Logger

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await _ in signals {
                reload()
            }
        }
    }

    func reload() {
        guard let configPath else {
            logger.notice("reload: started with built-in defaults (no config file); nothing to re-read")
            return
        }
        notifier.reloading()
        defer { notifier.ready(status: "reloaded \(configPath)") }
        let fresh: AgentConfig
        do {
            fresh = try AgentConfig.load(path: configPath)
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            return
        }
        if let problem = DropWeightReasons.problem(weights: fresh.telemetry.dropWeights, known: collector.kernel.dropReasonNames.values) {
            logger.error("reload refused, keeping the running configuration: \(problem)")
            return
        }
        collector.setDropWeights(fresh.telemetry.dropWeights, default: fresh.telemetry.defaultDropWeight)
        let needRestart = Self.restartOnlyChanges(from: running, to: fresh)
        if needRestart.isEmpty {
            logger.notice("reloaded \(configPath): drop weights applied")
        } else {
            logger.warning("reloaded \(configPath): drop weights applied; these changed and need a restart: \(needRestart.joined(separator: ", "))")
        }
    }

    /// Settings fixed for the life of the process (sockets, BPF load options, push target).
    static func restartOnlyChanges(from a: AgentConfig, to b: AgentConfig) -> [String] {
        var out: [String] = []
        if a.agent != b.agent { out.append("[agent]") }
        if a.telemetry.intervalSeconds != b.telemetry.intervalSeconds { out.append("telemetry.interval") }
        if a.telemetry.windowSeconds != b.telemetry.windowSeconds { out.append("telemetry.window") }
        if a.telemetry.maxPeers != b.telemetry.maxPeers { out.append("telemetry.max_peers") }
        if a.telemetry.netns != b.telemetry.netns { out.append("telemetry.netns") }
        if a.rpc != b.rpc { out.append("[rpc]") }
        if a.metrics != b.metrics { out.append("[metrics]") }
        if a.controller != b.controller { out.append("[controller]") }
        if a.shaping != b.shaping { out.append("[shaping]") }
        return out
    }
}
