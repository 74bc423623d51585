// edge-agent's lifecycle: load and attach BPF, open the socket and /metrics, tell systemd we are
// ready, then run every service until SIGTERM and detach cleanly.
import EdgeBPF
import EdgeConfig
import EdgeCore
import EdgeRPC
import EdgeSystemd
import EdgeTelemetry
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// A failure that should stop the unit with a one-line reason and an exit status that tells
/// systemd not to restart in a loop (see RestartPreventExitStatus= in edge-agent.service).
public struct AgentStartupError: Error, CustomStringConvertible {
    public enum Kind: Int32 {
        case config = 78      // EX_CONFIG
        case kernel = 69      // EX_UNAVAILABLE: missing kernel feature or privilege
    }
    public let kind: Kind
    public let message: String
    public var description: String { message }
    public var exitStatus: Int32 { kind.rawValue }
}

public enum AgentDaemon {
    /// Runs the agent until SIGTERM/SIGINT.
    /// - Parameter configPath: re-read on SIGHUP (nil: built-in defaults, nothing to reload).
    public static func run(config: AgentConfig, configPath: String? = nil, logger: Logger) async throws {
        // SIGHUP is trapped before anything else: its default action is to terminate, and a reload
        // sent while the BPF objects load or the socket opens must be applied (once the reload service
        // runs, from the sequence's buffer), not kill the agent or be lost.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        try config.validateForStart(file: configPath ?? "built-in defaults") // what --check-config applies
        let notifier = SDNotifier()
        let node = config.agent.nodeName ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"

        let netns: UInt32?
        switch config.telemetry.netns {
        case .all: netns = nil
        case .agentNamespace: netns = try networkNamespaceInode()
        }
        var cgroup: CgroupLocation?
        if let path = config.telemetry.cgroup {
            do {
                cgroup = try CgroupLocation.resolve(path: path)
            } catch {
                throw AgentStartupError(kind: .config, message: "telemetry.cgroup: \(error)")
            }
        }
        let kernel: KernelTelemetry
        do {
            kernel = try KernelTelemetry(netnsInode: netns, cgroup: cgroup)
        } catch let e as BPFError {
            throw AgentStartupError(kind: .kernel, message: "cannot load telemetry BPF: \(e)")
        }
        if let problem = DropWeightReasons.problem(weights: config.telemetry.dropWeights, known: kernel.dropReasonNames.values) {
            throw AgentStartupError(kind: .config, message: problem)
        }
        if kernel.dropReasonNames.isEmpty && !config.telemetry.dropWeights.isEmpty {
            logger.warning("telemetry.drop_weights not checked: this kernel's BTF has no enum skb_drop_reason")
        }
        for m in kernel.missing {
            logger.warning("telemetry: \(m.summary)")
        }

        let weights = TelemetryAggregator(windowSeconds: config.telemetry.windowSeconds,
                                          intervalSeconds: config.telemetry.intervalSeconds,
                                          dropWeights: config.telemetry.dropWeights,
                                          defaultDropWeight: config.telemetry.defaultDropWeight,
                                          maxPeers: config.telemetry.maxPeers)
        let collector = TelemetryCollector(kernel: kernel, node: node, agentVersion: EdgenodeVersion.current,
                                           aggregator: weights, cgroupCPU: cgroup.map { CgroupCPUReader(location: $0) })
        if let cgroup {
            logger.info("telemetry scoped to cgroup \(cgroup.path) (level \(cgroup.level); v1 dirs: \(cgroup.v1Dirs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))")
        }
        try collector.tick() // baseline reading: the first window completes one interval later
        let metrics = AgentMetrics()
        let state = AgentState(config: config, node: node, collector: collector)
        // after telemetry, before the socket: a shaping failure degrades, it never stops the agent
        (state.shaper, state.shapingFailure) = ShapingStartup.start(config: config, logger: logger)
        (state.pods, state.configClassSelectors) = ShapingStartup.restoreClasses(shaper: state.shaper, config: config,
                                                                                 logger: logger)

        let rpc = RPCServer(configuration: RPCServerConfiguration(config.rpc),
                            router: AgentRPCMethods.router(state: state),
                            logger: logger)
        do {
            try await rpc.start() // listening before READY=1
        } catch {
            throw AgentStartupError(kind: .config,
                                    message: ListenFailure(address: config.rpc.socket, key: "rpc.socket", error: error).description)
        }
        var services: [any Service] = [
            CollectorService(collector: collector, metrics: metrics,
                             interval: .milliseconds(Int64(config.telemetry.intervalSeconds * 1000)),
                             notifier: notifier, logger: logger),
            RPCService(server: rpc),
        ]
        if let listen = config.metrics.listen {
            services.append(MetricsHTTPService.make(listen: listen, metrics: metrics, collector: collector, logger: logger))
        }
        let pushURLs = config.controller.pushURLs
        if !pushURLs.isEmpty {
            let pusher = try ReportPusher(baseURLs: pushURLs, tokenFile: config.controller.tokenFile,
                                          caFile: config.controller.caFile,
                                          interval: config.controller.pushIntervalSeconds,
                                          timeout: config.controller.timeoutSeconds,
                                          collector: collector, logger: logger)
            state.pusher = pusher
            services.append(pusher)
        }
        if let shapingMetrics = ShapingMetricsService.make(shaper: state.shaper, agentMetrics: metrics,
                                                           intervalSeconds: config.telemetry.intervalSeconds, logger: logger) {
            services.append(shapingMetrics)
        }
        services.append(ReadinessService(notifier: notifier, state: state, logger: logger))
        services.append(AgentReload.service(signals: hangups, configPath: configPath, running: config, collector: collector,
                                            notifier: notifier, logger: logger))

        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        do {
            try await group.run()
        } catch let e as ListenFailure {
            kernel.detach()
            throw AgentStartupError(kind: .config, message: e.description)
        }
        notifier.stopping()
        kernel.detach()
        logger.info("edge-agent stopped; BPF programs detached")
    }
}

/// Sends READY=1 with a status line once every service runs (BPF is attached and the socket
/// listens before the group starts), then refreshes the status line every 10 s.
struct ReadinessService: Service {
    let notifier: SDNotifier
    let state: AgentState
    let logger: Logger

    func run() async throws {
        let s = state.status()
        notifier.ready(status: state.summaryLine())
        logger.info("edge-agent ready: node \(s.node), \(s.telemetry.attached.count) programs attached, socket \(s.socket)")
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(10))
                notifier.status(state.summaryLine())
            }
        }
    }
}

/// The RPC server as a lifecycle service.
struct RPCService: Service {
    let server: RPCServer
    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            Task { await server.shutdown() }
        }
    }
}
