// `systemctl reload` for both daemons: every SIGHUP re-reads the config file between
// RELOADING=1 and READY=1. A file that no longer parses or validates is refused with its
// reason and the running settings stay; what can change live is applied by the daemon's
// `apply`; settings that changed but only a restart can apply are named, never ignored.
import Logging
import ServiceLifecycle
import UnixSignals

/// What one accepted reload did.
public struct ConfigReloadOutcome: Sendable {
    /// What was applied ("drop weights applied").
    public var applied: String
    /// Settings that changed but need a restart ("[rpc]", "telemetry.interval").
    public var needRestart: [String]

    public init(applied: String, needRestart: [String]) {
        self.applied = applied
        self.needRestart = needRestart
    }
}

public struct ConfigReloadService: Service {
    /// SIGHUPs, trapped by the daemon at start-up and buffered until `run`.
    let signals: UnixSignalsSequence
    let configPath: String?
    /// Logged when SIGHUP comes to a daemon started without a file.
    let withoutFile: String
    let notifier: SDNotifier
    let logger: Logger
    /// Reads and checks the file at the path, applies what can change live; throws to refuse.
    let apply: @Sendable (String) throws -> ConfigReloadOutcome

    public init(signals: UnixSignalsSequence, configPath: String?, withoutFile: String, notifier: SDNotifier,
                logger: Logger, apply: @escaping @Sendable (String) throws -> ConfigReloadOutcome) {
        self.signals = signals
        self.configPath = configPath
        self.withoutFile = withoutFile
        self.notifier = notifier
        self.logger = logger
        self.apply = apply
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            for await _ in signals {
                reload()
            }
        }
    }

    public func reload() {
        guard let configPath else {
            logger.notice("\(withoutFile)")
            return
        }
        notifier.reloading()
        defer { notifier.ready(status: "reloaded \(configPath)") }
        let outcome: ConfigReloadOutcome
        do {
            outcome = try apply(configPath)
        } catch {
            logger.error("reload refused, keeping the running configuration: \(error)")
            return
        }
        if outcome.needRestart.isEmpty {
            logger.notice("reloaded \(configPath): \(outcome.applied)")
        } else {
            logger.warning("reloaded \(configPath): \(outcome.applied); these changed and need a restart: \(outcome.needRestart.joined(separator: ", "))")
        }
    }
}
