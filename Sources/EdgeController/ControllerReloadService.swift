// SIGHUP (systemctl reload edge-controller): re-read controller.toml. [score] (weights, bounds,
// normalisation, smoothing, hysteresis) and [filter] (the extender's limits) change live; a
// file that no longer parses or validates is refused with its reason and the running settings
// stay. Sections only a restart can apply are named rather than silently ignored. The agent's
// ReloadService does the same for agent.toml.
import EdgeCore
import EdgeSystemd
import Logging
import ServiceLifecycle
import UnixSignals

struct ControllerReloadService: Service {
    /// SIGHUPs, trapped at start-up (ControllerDaemon.run) and buffered until `run`.
    let signals: UnixSignalsSequence
    let configPath: String?
    let core: ControllerCore
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
            logger.notice("reload: started without a config file; nothing to re-read")
            return
        }
        notifier.reloading()
        defer { notifier.ready(status: "reloaded \(configPath)") }
        let fresh: ControllerConfig
        do {
            fresh = try ControllerConfig.load(path: configPath)
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            return
        }
        let needRestart = core.apply(fresh)
        let nodes = core.registry.counts().total
        if needRestart.isEmpty {
            logger.notice("reloaded \(configPath): [score] and [filter] applied, \(nodes) nodes rescored")
        } else {
            // one interpolation: Logger.Message is not a String, so `"…" + "…"` does not type-check
            let restart = needRestart.joined(separator: ", ")
            logger.warning("reloaded \(configPath): [score] and [filter] applied, \(nodes) nodes rescored; these changed and need a restart: \(restart)")
        }
    }
}
