// What SIGHUP (systemctl reload edge-controller) re-applies in the controller: [score]
// (weights, bounds, normalisation, smoothing, hysteresis) and [filter] change live; sections
// only a restart can apply are named. The reload protocol itself is EdgeSystemd's
// ConfigReloadService, shared with the agent.
import EdgeConfig
import EdgeSystemd
import Logging
import UnixSignals

enum ControllerReload {
    static func service(signals: UnixSignalsSequence, configPath: String?, core: ControllerCore,
                        notifier: SDNotifier, logger: Logger) -> ConfigReloadService {
        ConfigReloadService(signals: signals, configPath: configPath,
                            withoutFile: "reload: started without a config file; nothing to re-read",
                            notifier: notifier, logger: logger) { path in
            let needRestart = core.apply(try ControllerConfig.load(path: path))
            let nodes = core.registry.counts().total
            return ConfigReloadOutcome(applied: "[score] and [filter] applied, \(nodes) nodes rescored", needRestart: needRestart)
        }
    }
}
