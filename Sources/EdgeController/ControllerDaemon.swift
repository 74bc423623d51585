// edge-controller as a process: HTTP server + local RPC (+ the Prometheus poller when configured)
// under one ServiceGroup, sd_notify READY/STATUS/WATCHDOG/STOPPING, graceful stop on SIGTERM/SIGINT.
import EdgeConfig
import EdgeCore
import EdgeRPC
import EdgeSystemd
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

public enum ControllerDaemon {
    /// Runs the controller until SIGTERM/SIGINT. Throws when it cannot start (bad token file,
    /// TLS files, socket or port in use), with the reason.
    /// - Parameter configPath: re-read on SIGHUP (nil: nothing to reload).
    public static func run(config: ControllerConfig, configPath: String? = nil, logger: Logger) async throws {
        // Trapped first: SIGHUP's default action would end the process, and one sent while the
        // controller starts is applied once the reload service runs (from the sequence's buffer).
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let notifier = SDNotifier()
        let descriptors = try DescriptorBudget.ensure(config)
        logger.debug("file descriptor limit", metadata: ["soft": "\(descriptors)", "needed": "\(DescriptorBudget.needed(config))"])
        let core = try ControllerCore(config: config, version: EdgenodeVersion.current)
        if let error = core.restoreError {
            logger.error("cannot restore the registry: \(error)")
        } else if core.restoredNodes > 0, let path = config.registry.stateFile {
            logger.info("restored \(core.restoredNodes) nodes from \(path)")
        }
        if core.ingest.token == nil {
            logger.warning("server.token_file is empty: reports are accepted without authentication (loopback listener only)")
        }
        let source = try core.prometheusSource(logger: logger) // before anything listens: a bad file stops here
        do {
            let reload = ControllerReload.service(signals: hangups, configPath: configPath, core: core,
                                                  notifier: notifier, logger: logger)
            try await serve(core: core, source: source, reload: reload, notifier: notifier, logger: logger)
        } catch {
            await source?.shutdown() // its HTTP client must be closed even when it never ran
            throw error
        }
        logger.info("edge-controller stopped")
    }

    private static func serve(core: ControllerCore, source: PrometheusSource?, reload: ConfigReloadService,
                              notifier: SDNotifier, logger: Logger) async throws {
        let config = core.config
        let bound = BoundAddress(config.server.listen.description)
        let (listening, listeningContinuation) = AsyncStream.makeStream(of: Int.self)
        let httpListening = ListeningFlag()
        let app = try ControllerHTTPServer.make(core: core, logger: logger) { port in
            httpListening.set()
            bound.set(ListenAddress(host: config.server.listen.host, port: port).description)
            listeningContinuation.yield(port)
            listeningContinuation.finish()
        }
        // A bind failure names the address and server.listen, not just NIO's errno text.
        let http = ListenReportingService(app, address: config.server.listen.description, key: "server.listen",
                                          listening: httpListening)
        let rpc = RPCServer(configuration: RPCServerConfiguration(config.rpc),
                            router: core.rpcRouter(logger: logger) { bound.get() }, logger: logger)
        do {
            try await rpc.start() // listening before READY=1
        } catch {
            throw ListenFailure(address: config.rpc.socket, key: "rpc.socket", error: error)
        }
        // Shut down in reverse order: notifier first (STOPPING=1), then RPC, then HTTP, then the
        // Prometheus poller (if any), so the registry is fed until nothing reads it.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // first in the list = stopped last: the final save sees every report that was accepted
        if let path = config.registry.stateFile {
            services.append(.init(service: RegistrySaveService(
                registry: core.registry, path: path,
                interval: .milliseconds(Int64(config.registry.saveIntervalSeconds * 1000)), logger: logger)))
        }
        if let source { services.append(.init(service: source)) }
        services += [.init(service: http), .init(service: ControllerRPCService(server: rpc)),
                     .init(service: ControllerNotifyService(notifier: notifier, core: core, bound: bound,
                                                            listening: listening, logger: logger)),
                     .init(service: reload)]
        let group = ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// The address the HTTP server actually bound (port 0 in the config becomes a real port).
final class BoundAddress: Sendable {
    private let value: Mutex<String>
    init(_ initial: String) { value = Mutex(initial) }
    func set(_ s: String) { value.withLock { $0 = s } }
    func get() -> String { value.withLock { $0 } }
}

/// The RPC server as a lifecycle service.
struct ControllerRPCService: Service {
    let server: RPCServer
    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            Task { await server.shutdown() }
        }
    }
}

/// READY=1 once HTTP listens (the RPC socket already does), then STATUS and WATCHDOG pings;
/// STOPPING=1 on graceful shutdown.
struct ControllerNotifyService: Service {
    let notifier: SDNotifier
    let core: ControllerCore
    let bound: BoundAddress
    let listening: AsyncStream<Int>
    let logger: Logger

    func run() async throws {
        var it = listening.makeAsyncIterator()
        guard let port = await it.next() else { return } // HTTP never came up: the group is failing anyway
        notifier.ready(status: statusLine())
        logger.info("edge-controller ready", metadata: ["listen": "\(bound.get())", "socket": "\(core.config.rpc.socket)"])
        // Each ping is earned: the HTTP listener must answer /healthz (a hung event loop or router
        // fails that) and the registry lock must be free (statusLine takes it). One slow answer is
        // not a hang: a failed probe is retried until the last ping is 7/8 of WatchdogSec old, and
        // only then is the ping withheld. (Withholding after a single 1 s probe let one stall of a
        // starved host restart the controller: the next ping came after more than WatchdogSec.)
        let interval = notifier.watchdogInterval ?? .seconds(10)
        let probe = SelfProbe(host: core.config.server.listen.host, port: port, tls: core.config.server.tlsCert != nil,
                              timeout: max(interval / 2, .milliseconds(100)))
        let budget = WatchdogProbeBudget(interval: interval)
        let clock = ContinuousClock()
        do {
            try await cancelWhenGracefulShutdown {
                var lastPing = clock.now
                var probeFailing = false
                while true {
                    try await Task.sleep(for: interval)
                    var failure = await probe.check()
                    while failure != nil, let left = budget.retryTimeout(sinceLastPing: clock.now - lastPing) {
                        try await Task.sleep(for: budget.retryPause)
                        failure = await probe.check(timeout: left)
                    }
                    if let failure {
                        if !probeFailing {
                            let text = "watchdog: own listener did not answer \(probe.url) for \(clock.now - lastPing) "
                                + "(last failure: \(failure)); withholding the watchdog ping (systemd restarts a hung controller after WatchdogSec)"
                            logger.error("\(text)")
                        }
                        probeFailing = true
                        continue
                    }
                    probeFailing = false
                    notifier.status(statusLine())
                    notifier.watchdogPing()
                    lastPing = clock.now
                }
            }
        } catch {
            // Cancelled by graceful shutdown (or group cancellation): fall through to STOPPING.
        }
        await probe.shutdown()
        notifier.stopping()
    }

    func statusLine() -> String {
        let c = core.registry.counts()
        return "serving on \(bound.get()); \(c.total) nodes (\(c.fresh) fresh, \(c.stale) stale); \(c.reportsAccepted) reports"
    }
}
