// What SIGHUP re-applies in the agent (the reload protocol itself is EdgeSystemd's
// ConfigReloadService): the drop weights change live; the other settings are fixed for the
// life of the process and are named when they changed.
import EdgeConfig
import EdgeSystemd
import Logging
import UnixSignals

enum AgentReload {
    /// The agent's reload service.
    static func service(signals: UnixSignalsSequence, configPath: String?, running: AgentConfig,
                        collector: TelemetryCollector, notifier: SDNotifier, logger: Logger) -> ConfigReloadService {
        ConfigReloadService(signals: signals, configPath: configPath,
                            withoutFile: "reload: started with built-in defaults (no config file); nothing to re-read",
                            notifier: notifier, logger: logger) { path in
            let fresh = try AgentConfig.load(path: path)
            if let problem = DropWeightReasons.problem(weights: fresh.telemetry.dropWeights, known: collector.kernel.dropReasonNames.values) {
                throw ReloadRefused(description: problem)
            }
            collector.setDropWeights(fresh.telemetry.dropWeights, default: fresh.telemetry.defaultDropWeight)
            return ConfigReloadOutcome(applied: "drop weights applied", needRestart: restartOnlyChanges(from: running, to: fresh))
        }
    }

    /// A file that loaded but cannot be applied; the text is the reason.
    struct ReloadRefused: Error, CustomStringConvertible {
        let description: String
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
