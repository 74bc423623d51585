// `edge-experiment run`: builds the test bed, then for every scenario × RPS × repetition runs both
// modes (their order alternating between repetitions, so drift over time does not favour one),
// measures, and writes the raw data, the summary, the statistics and the verdict.
import ArgumentParser
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation
#if canImport(Glibc)
import Glibc
#endif

enum Mode: String, CaseIterable {
    case baseline, proposed
    var policy: PlacementPolicy { self == .baseline ? .spread : .extender }
}

struct RunSpec {
    var scenario: ScenarioID
    var mode: Mode
    var rps: Double
    var rep: Int
    var workload: WorkloadProfile = .web
    var fileStem: String { "\(scenario.rawValue)_\(mode.rawValue)_rps\(Int(rps))_rep\(rep)" }
}

struct RunRecord {
    var spec: RunSpec
    var metrics: RunMetrics
    var placement: [String]
    var notes: [String]
    /// Bytes per answer the workload asked for in this run.
    var responseBytes = 0
}

struct MTTRRecord {
    var scenario: ScenarioID
    /// From SIGTERM to the first placement with no extender answer (default scheduling).
    var decisionSeconds: Double
    /// From SIGTERM until every replica, re-created where default scheduling puts it, answered.
    var totalSeconds: Double
    var before: [String]
    var after: [String]
    /// Placements tried until one got no extender answer.
    var attempts = 1
    /// From SIGTERM until edge-controller exited (nan: not within 30 s).
    var controllerExitSeconds = Double.nan
    /// One placement of every replica with the controller frozen (SIGSTOP), and how many pods it answered.
    var hungPlacementSeconds = Double.nan
    var hungAnswers = 0
    var httpTimeout = 2.0
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the experiment (root): namespaces, agents, controller, scenarios, both modes; write results.",
        discussion: """
        The study's durations are --duration 600 --warmup 300 --cooldown 300 with --rps 100,500,1000 and \
        --reps 5 (make experiment-full: 150 runs, about 50 hours). The defaults below and make \
        experiment-quick are shorter so that a run fits a shared build machine; they are not the study's values.
        """)

    @Option(help: "Directory with edge-agent and edge-controller.") var bin = ".build/debug"
    @Option(help: "Directory holding agent.toml, controller.toml (templates) and where results/ goes.") var experiments = "experiments"
    @Option(help: "Label written into the results (quick, full, …).") var label = "custom"
    @Option(help: "Node namespaces.") var nodes = 4
    @Option(help: "The node the scenario degrades (1-based).") var degradedNode = 1
    @Option(help: "Scenarios, comma separated (S1…S5).") var scenarios = "S1,S2,S3,S4,S5"
    @Option(help: "Request rates, comma separated.") var rps = "100,500,1000"
    @Option(help: "Repetitions per scenario × RPS × mode.") var reps = 3
    @Option(help: "Modes, comma separated: baseline (default spreading), proposed (the extender), or both.") var modes = "baseline,proposed"
    @Option(help: "Workload profile for every scenario: web, inference, stream, or auto (the preset's pairing: S1,S2,S5 web; S3 stream; S4 inference).") var workload = "auto"
    @Option(help: "CPUs of each namespace node's cgroup (CFS quota); default: online CPUs / nodes; 0 = no node cgroups (agents see the whole host).") var nodeCpus: Double?
    @Option(help: "Seconds of measured load per run.") var duration = 60.0
    @Option(help: "Seconds of warm-up load (spread over all nodes) before placement.") var warmup = 15.0
    @Option(help: "Seconds of rest after each run.") var cooldown = 5.0
    @Option(help: "Replicas placed per run.") var replicas = 4
    @Option(help: "The extender's weight in the simulated scheduler configuration (kube-scheduler-config.yaml ships 5).") var extenderWeight = 5.0
    @Option(help: "Bytes per response of the web workload (inference and stream set their own).") var responseBytes = 16384
    @Option(help: "Requests per second to each node's probe server during a run (for ρ).") var probeRps = 10.0
    @Option(help: "Seconds before a request counts as failed.") var timeout = 1.0
    @Option(help: "Persistent connections per replica.") var connections = 8
    @Option(help: "Seconds of one down+up cycle in S5 (the study: 10 s down, 10 s up).") var outagePeriod = 20.0
    @Option(help: "Busy processes for S4.") var stressWorkers = 2
    @Option(help: "The compiled loss program (make bpf).") var lossObject = "Sources/CEdgeShim/bpfobj/loss.bpf.o"
    @Option(help: "The bounded CPU load script.") var cpuScript = "Tests/scripts/cpu_load.py"
    @Flag(inversion: .prefixedNo, help: "Measure the extender rollback MTTR at the end (stops the bed's controller).") var mttr = true
    @Option(help: "Seconds per extender call, as httpTimeout in the scheduler configuration (kube-scheduler-config.yaml ships 2s).") var httpTimeout = 2.0
    @Option(help: "VM bed (packaging/vm/experiment-vms.sh): the namespace with the bridge, the VMs' SSH forwards, controller and client.") var vmNetns: String?
    @Option(name: .customLong("vm-node"), help: "VM bed: a node VM as ADDRESS:SSH_PORT, in node order (repeat; as many as --nodes).") var vmNodes: [String] = []
    @Option(help: "VM bed: the SSH private key for root on the VMs.") var vmSshKey: String?
    @Option(help: "VM bed: the controller's address on the bridge.") var vmControllerAddress: String?
    @Option(help: "VM bed: the VMs' NIC on the bridge.") var vmDevice = "eth1"
    @Option(help: "VM bed: the directory holding edge-agent in the VMs.") var vmAgentBin = "/usr/sbin"

    /// `--scenarios` in the order given; each at most once (a repeat would only duplicate runs).
    func parsedScenarios() throws -> [ScenarioID] {
        let list = try scenarios.split(separator: ",").map {
            guard let s = ScenarioID(rawValue: $0.trimmingCharacters(in: .whitespaces).uppercased()) else {
                throw ValidationError("--scenarios: unknown scenario '\($0)' (known: S1, S2, S3, S4, S5)")
            }
            return s
        }
        if let dup = list.first(where: { s in list.filter { $0 == s }.count > 1 }) {
            throw ValidationError("--scenarios: \(dup.rawValue) is given more than once (use --reps for repetitions)")
        }
        return list
    }

    /// `--modes` in the order given; each at most once.
    func parsedModes() throws -> [Mode] { try Self.parseModes(modes) }

    static func parseModes(_ modes: String) throws -> [Mode] {
        let list = try modes.split(separator: ",").map {
            guard let m = Mode(rawValue: $0.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--modes: unknown mode '\($0)' (known: baseline, proposed)")
            }
            return m
        }
        guard !list.isEmpty, Set(list).count == list.count else {
            throw ValidationError("--modes: give baseline, proposed or both, each once; got '\(modes)'")
        }
        return list
    }

    /// The workload of each scenario: `--workload` for all, or the preset's pairing for `auto`.
    func workload(for s: ScenarioID) throws -> WorkloadProfile { try Self.parseWorkload(workload, for: s) }

    static func parseWorkload(_ workload: String, for s: ScenarioID) throws -> WorkloadProfile {
        if workload.lowercased() == "auto" { return WorkloadProfile.preset(for: s) }
        guard let w = WorkloadProfile(rawValue: workload.lowercased()) else {
            throw ValidationError("--workload: unknown profile '\(workload)' (known: auto, web, inference, stream)")
        }
        return w
    }

    /// `--rps` in the order given; each at most once.
    func parsedRates() throws -> [Double] {
        let list = try rps.split(separator: ",").map {
            guard let r = Double($0.trimmingCharacters(in: .whitespaces)), r > 0, r <= 20_000 else {
                throw ValidationError("--rps: '\($0)' is not a rate in (0, 20000]")
            }
            return r
        }
        if let dup = list.first(where: { r in list.filter { $0 == r }.count > 1 }) {
            throw ValidationError("--rps: \(Reports.num(dup, 0)) is given more than once (use --reps for repetitions)")
        }
        return list
    }

    /// Parameters first, then files, then root: a mistyped option is named even when not run as root.
    func validate() throws {
        try validateParameters()
        try validateFiles()
        guard getuid() == 0 else { throw ValidationError("edge-experiment run needs root (network namespaces, tc, BPF)") }
    }

    /// The numbers and lists: ranges and consistency, nothing read from the system.
    func validateParameters() throws {
        guard (2...32).contains(nodes) else { throw ValidationError("--nodes must be in 2…32, got \(nodes)") }
        guard (1...nodes).contains(degradedNode) else { throw ValidationError("--degraded-node must be in 1…\(nodes), got \(degradedNode)") }
        guard !(try parsedScenarios()).isEmpty, !(try parsedRates()).isEmpty else { throw ValidationError("no scenarios or rates given") }
        guard (1...100).contains(reps) else { throw ValidationError("--reps must be in 1…100, got \(reps)") }
        guard duration >= 2 && duration <= 3600 else { throw ValidationError("--duration must be in [2, 3600] s, got \(duration)") }
        guard warmup >= 0 && warmup <= 600, cooldown >= 0 && cooldown <= 600 else { throw ValidationError("--warmup and --cooldown must be in [0, 600] s") }
        guard (1...64).contains(replicas) else { throw ValidationError("--replicas must be in 1…64, got \(replicas)") }
        guard extenderWeight > 0 && extenderWeight <= 100 else { throw ValidationError("--extender-weight must be in (0, 100], got \(extenderWeight)") }
        guard outagePeriod >= 1 && outagePeriod <= 600 else { throw ValidationError("--outage-period must be in [1, 600] s") }
        guard (1...16).contains(stressWorkers) else { throw ValidationError("--stress-workers must be in 1…16") }
        guard httpTimeout >= 0.05 && httpTimeout <= 60 else { throw ValidationError("--http-timeout must be in [0.05, 60] s, got \(httpTimeout)") }
        _ = try parsedModes()
        _ = try workload(for: .S1)
        if let c = nodeCpus, !(c == 0 || (c >= 0.01 && c <= 1024)) {
            throw ValidationError("--node-cpus must be 0 (no node cgroups) or in [0.01, 1024], got \(c)")
        }
        _ = try vmBed()
    }

    /// The VM bed the --vm-* options describe; nil without --vm-node.
    func vmBed() throws -> VMBedOptions? {
        guard !vmNodes.isEmpty else {
            guard vmNetns == nil, vmSshKey == nil, vmControllerAddress == nil else {
                throw ValidationError("--vm-netns, --vm-ssh-key and --vm-controller-address need --vm-node")
            }
            return nil
        }
        guard let netns = vmNetns, let key = vmSshKey, let ctl = vmControllerAddress else {
            throw ValidationError("a VM bed (--vm-node) needs --vm-netns, --vm-ssh-key and --vm-controller-address")
        }
        guard vmNodes.count == nodes else { throw ValidationError("--nodes is \(nodes) but \(vmNodes.count) --vm-node given") }
        let access = try vmNodes.map { text -> VMNodeAccess in
            let parts = text.split(separator: ":")
            guard parts.count == 2, let port = UInt16(parts[1]), port > 0, parts[0].split(separator: ".").count == 4 else {
                throw ValidationError("--vm-node '\(text)': expected IPV4:SSH_PORT")
            }
            return VMNodeAccess(sshPort: port, address: String(parts[0]), netns: netns, sshKey: key)
        }
        guard Set(access.map(\.address)).count == access.count else { throw ValidationError("--vm-node addresses must be distinct") }
        return VMBedOptions(netns: netns, controllerAddress: ctl, nodes: access, device: vmDevice, agentBin: vmAgentBin)
    }

    /// The binaries, templates, BPF object and script the run needs exist.
    func validateFiles() throws {
        for (flag, path) in [("--bin", "\(bin)/edge-agent"), ("--bin", "\(bin)/edge-controller")] where !FileManager.default.isExecutableFile(atPath: path) {
            throw ValidationError("\(flag): \(path) is not an executable (swift build, or make release and --bin .build/release)")
        }
        for (flag, path) in [("--experiments", "\(experiments)/agent.toml"), ("--experiments", "\(experiments)/controller.toml"),
                             ("--loss-object", lossObject), ("--cpu-script", cpuScript)] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(flag): \(path) does not exist\(flag == "--loss-object" ? " (make bpf builds it)" : "")")
        }
    }

    func run() throws {
        let runner = try ExperimentRunner(self)
        try runner.run()
    }
}

/// Holds the state of one `run` invocation.
final class ExperimentRunner {
    let opts: RunCommand
    let outDir: String
    let bed: TestBed
    let settings: ScenarioSettings
    let selfPath: String
    private var logHandle: FileHandle?
    private var signalSources: [DispatchSourceSignal] = []
    private var notRunnable: [ScenarioID: String] = [:]

    init(_ opts: RunCommand) throws {
        self.opts = opts
        let fmt = DateFormatter()
        fmt.locale = Locale(identifier: "en_US_POSIX")
        fmt.timeZone = TimeZone(identifier: "UTC")
        fmt.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let experiments = URL(fileURLWithPath: opts.experiments).standardizedFileURL.path
        outDir = "\(experiments)/results/\(fmt.string(from: Date()))"
        selfPath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let workDir = "\(outDir)/testbed"
        guard "\(workDir)/controller.sock".utf8.count < 100 else {
            throw ValidationError("results path too long for a Unix socket path: \(workDir)")
        }
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        bed = TestBed(TestBedOptions(
            nodes: opts.nodes, bin: URL(fileURLWithPath: opts.bin).standardizedFileURL.path, selfPath: selfPath,
            experimentsDir: experiments, workDir: workDir, cpus: cpus, vm: try opts.vmBed(),
            nodeCPUs: opts.nodeCpus ?? Double(cpus) / Double(opts.nodes)))
        settings = ScenarioSettings(lossObject: URL(fileURLWithPath: opts.lossObject).standardizedFileURL.path,
                                    cpuScript: URL(fileURLWithPath: opts.cpuScript).standardizedFileURL.path,
                                    stressWorkers: opts.stressWorkers, outagePeriod: opts.outagePeriod)
    }

    func log(_ s: String) {
        let line = "[\(String(format: "%8.1f", monotonicNow() - started))s] \(s)\n"
        FileHandle.standardOutput.write(Data(line.utf8))
        logHandle?.write(Data(line.utf8))
    }
    private let started = monotonicNow()

    func run() throws {
        try FileManager.default.createDirectory(atPath: "\(outDir)/raw", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: "\(outDir)/run.log", contents: nil)
        logHandle = FileHandle(forWritingAtPath: "\(outDir)/run.log")
        let latest = "\(outDir)/../latest"
        try? FileManager.default.removeItem(atPath: latest)
        try? FileManager.default.createSymbolicLink(atPath: latest, withDestinationPath: URL(fileURLWithPath: outDir).lastPathComponent)
        installSignalHandlers()
        defer { log("tearing down the test bed"); bed.teardown() }
        log("edge-experiment \(opts.label): results in \(outDir)")

        try bed.setUp(log: log)
        let scenarios = try opts.parsedScenarios(), rates = try opts.parsedRates(), modes = try opts.parsedModes()
        if scenarios.contains(.S1) && !ActiveScenario.netemAvailable(on: bed.host(opts.degradedNode)) {
            notRunnable[.S1] = "not runnable here: sch_netem missing (run the VM variant)"
            log("S1: \(notRunnable[.S1]!)")
        }
        var records: [RunRecord] = []
        let runnable = scenarios.filter { notRunnable[$0] == nil }
        let total = runnable.count * rates.count * opts.reps * modes.count
        for scenario in runnable {
            let workload = try opts.workload(for: scenario)
            log("\(scenario.rawValue): workload \(workload.summary)")
            for rate in rates {
                for rep in 1...opts.reps {
                    let order: [Mode] = rep % 2 == 1 ? modes : modes.reversed()
                    for mode in order {
                        let spec = RunSpec(scenario: scenario, mode: mode, rps: rate, rep: rep, workload: workload)
                        log("run \(records.count + 1)/\(total): \(scenario.rawValue) \(scenario.summary), \(mode.rawValue), \(Int(rate)) rps, rep \(rep), \(workload.rawValue)")
                        let r = try runOne(spec)
                        records.append(r)
                        let m = r.metrics
                        log(String(format: "  placement %@ | p50 %.2f ms p99 %.2f ms errors %.2f%% retrans %.0f drops %.0f qps %.1f cpu/M %.1f s resched %d ρ %.2f | host load %.1f",
                                   r.placement.joined(separator: ","), m.p50Ms, m.p99Ms, m.errorRate * 100, m.retransSegs, m.kernelDrops, m.qps, m.cpuPerMillion,
                                   m.reschedules, m.rho, m.hostLoadEnd))
                        try Reports.writeSummary(records, degradedNode: bed.nodeNames[opts.degradedNode - 1], to: "\(outDir)/experiment_summary.csv")
                    }
                }
            }
        }
        var mttrRecord: MTTRRecord?
        if opts.mttr, let s = runnable.first(where: { $0 != .S4 }) ?? runnable.first {
            mttrRecord = try measureMTTR(scenario: s)
        }
        try Reports.writeSummary(records, degradedNode: bed.nodeNames[opts.degradedNode - 1], to: "\(outDir)/experiment_summary.csv")
        try Reports.writeStatistics(records, to: "\(outDir)/statistical_analysis.csv")
        try Reports.writePlacement(records, degradedNode: bed.nodeNames[opts.degradedNode - 1], to: "\(outDir)/placement.csv")
        let verdict = Reports.verdict(records: records, scenariosAsked: scenarios, notRunnable: notRunnable, mttr: mttrRecord,
                                      label: opts.label, parameters: parameterLine(),
                                      degradedNode: bed.nodeNames[opts.degradedNode - 1], modes: modes)
        try verdict.write(toFile: "\(outDir)/verdict.txt", atomically: true, encoding: .utf8)
        log("verdict:\n" + verdict)
    }

    func parameterLine() -> String {
        (opts.vmNodes.isEmpty ? "bed: network namespaces on one kernel, " : "bed: one VM per node (\(opts.vmNodes.joined(separator: " "))), ")
            + "nodes \(opts.nodes), degraded node-\(opts.degradedNode), replicas \(opts.replicas), extender weight \(opts.extenderWeight), rps \(opts.rps), reps \(opts.reps), "
            + "modes \(opts.modes), workload \(opts.workload), node cgroups \(bed.cgroups.isEmpty ? "none" : "\(bed.options.nodeCPUs) CPUs each"), "
            + "warm-up \(opts.warmup) s, duration \(opts.duration) s, cool-down \(opts.cooldown) s, web response \(opts.responseBytes) B, "
            + "timeout \(opts.timeout) s, extender httpTimeout \(opts.httpTimeout) s, probe \(opts.probeRps)/s per node, S5 period \(opts.outagePeriod) s, binaries \(opts.bin)"
    }

    private func installSignalHandlers() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler { [weak self] in
                guard let self else { exit(130) }
                self.log("signal \(sig): tearing down")
                self.bed.teardown()
                exit(130)
            }
            src.resume()
            signalSources.append(src)
        }
    }

    private func inNamespace(_ ns: String, _ args: [String]) -> [String] { Netns.exec(ns, [selfPath] + args) }

    private var probeArgs: [String] {
        (1...opts.nodes).flatMap { ["--probe", "node-\($0)@\(bed.nodeClientAddress($0)):\(bed.probePort)"] }
    }

    private func place(_ policy: PlacementPolicy) throws -> PlacementDecision {
        let out = try sh(inNamespace(bed.controllerNS, ["place", "--policy", policy.rawValue, "--replicas", String(opts.replicas),
                                                                 "--extender-weight", String(opts.extenderWeight), "--http-timeout", String(opts.httpTimeout)]
                + bed.nodeNames.flatMap { ["--node", $0] })).stdout
        do { return try JSONDecoder().decode(PlacementDecision.self, from: Data(out.utf8)) } catch {
            throw CommandFailure(description: "place printed no decision: \(out)")
        }
    }

    /// CPU seconds of the replica servers, summed (nan when one cannot be read).
    private func cpuSeconds(_ servers: [DaemonProcess], _ nodes: [String]) -> Double {
        zip(servers, nodes).map { s, node in bed.cpuSeconds(s, node: bed.nodeNames.firstIndex(of: node)! + 1) ?? .nan }.reduce(0, +)
    }

    private func startReplicas(_ nodes: [String]) throws -> [DaemonProcess] {
        try nodes.enumerated().map { k, node in
            let i = bed.nodeNames.firstIndex(of: node)! + 1
            let s = try bed.startServer(node: i, port: UInt16(7000 + k), label: "replica \(k)")
            bed.track(s)
            return s
        }
    }

    private func replicaArgs(_ nodes: [String]) -> [String] {
        nodes.enumerated().flatMap { k, node in
            ["--replica", "\(node)@\(bed.nodeClientAddress(bed.nodeNames.firstIndex(of: node)! + 1)):\(7000 + k)"]
        }
    }

    private func loadArgs(rps: Double, seconds: Double, workload: WorkloadProfile = .web) -> [String] {
        ["load", "--rps", String(rps), "--seconds", String(seconds), "--timeout", String(opts.timeout),
         "--connections", String(opts.connections), "--response-bytes", String(responseBytes(workload, rps: rps)),
         "--cpu-micros", String(workload.cpuMicros)]
    }

    private func responseBytes(_ w: WorkloadProfile, rps: Double) -> Int {
        w.responseBytes(webBytes: opts.responseBytes, rps: rps, replicas: opts.replicas, nodes: opts.nodes, degradedNode: opts.degradedNode)
    }

    /// Every node's reliability counters (a node that cannot be read is left out, and the run's
    /// totals stay unknown).
    private func netCounters() -> [String: NodeNetCounters] {
        var out: [String: NodeNetCounters] = [:]
        for (k, n) in bed.nodeNames.enumerated() {
            do { out[n] = try bed.netCounters(node: k + 1) } catch { log("  reliability counters of \(n): \(error)") }
        }
        return out
    }

    /// Polls nodes.list every second until stopped: badness per node (stale = 1, the worst).
    private final class ScorePoller: @unchecked Sendable {
        private let lock = NSLock()
        private var samples: [[String: Double]] = []
        private let stop = DispatchSemaphore(value: 0)
        private let done = DispatchSemaphore(value: 0)

        init(socket: String) {
            Thread.detachNewThread { [self] in
                let rpc = RPCClient(path: socket, timeout: .seconds(2), daemonName: "edge-controller", accessGroup: "")
                repeat {
                    if let r = try? rpc.call(ControllerMethod.nodesList) {
                        let s = RunMetrics.badnessSample(r)
                        lock.lock(); samples.append(s); lock.unlock()
                    }
                } while stop.wait(timeout: .now() + 1) == .timedOut
                done.signal()
            }
        }

        func finish() -> [[String: Double]] {
            stop.signal(); done.wait()
            lock.lock(); defer { lock.unlock() }
            return samples
        }
    }

    func runOne(_ spec: RunSpec) throws -> RunRecord {
        let fault = try ActiveScenario(spec.scenario, node: opts.degradedNode, bed: bed, settings: settings,
                                       seconds: opts.warmup + opts.duration + 10)
        defer { fault.remove() }
        // warm-up: the service's traffic spread over every node, the same in both modes, so the
        // agents have something to measure before the placement decision
        if opts.warmup > 0 {
            try sh(inNamespace(bed.clientNS, loadArgs(rps: spec.rps, seconds: opts.warmup, workload: spec.workload)
                + bed.nodeNames.enumerated().flatMap { i, n in ["--replica", "\(n)@\(bed.nodeClientAddress(i + 1)):\(bed.probePort)"] }))
        }
        let decision = try place(spec.mode.policy)
        let servers = try startReplicas(decision.nodes)
        defer { servers.forEach { $0.stop() } }

        let raw = "\(outDir)/raw/\(spec.fileStem).csv"
        let watchCSV = "\(outDir)/raw/\(spec.fileStem)_watch.csv"
        let watch = try DaemonProcess(name: "watch", inNamespace(bed.controllerNS, ["watch", "--seconds", String(opts.duration), "--out", watchCSV]
                                    + bed.nodeNames.flatMap { ["--node", $0] }),
                                logPath: "\(bed.options.workDir)/watch.log", stopGrace: 5)
        bed.track(watch)
        let poller = ScorePoller(socket: bed.controllerSocket)
        let load0 = RunMetrics.hostLoad1()
        let counters0 = netCounters()
        let cpu0 = cpuSeconds(servers, decision.nodes)
        try sh(inNamespace(bed.clientNS, loadArgs(rps: spec.rps, seconds: opts.duration, workload: spec.workload) + replicaArgs(decision.nodes)
            + probeArgs + ["--probe-rps", String(opts.probeRps), "--out", raw]))
        let cpu1 = cpuSeconds(servers, decision.nodes)
        let counters1 = netCounters()
        let scoreSamples = poller.finish()
        if !watch.waitExit(timeout: 15) { watch.stop() }

        var m = RunMetrics()
        try m.readRequests(csvPath: raw, seconds: opts.duration)
        if FileManager.default.fileExists(atPath: watchCSV) { try m.readWatch(csvPath: watchCSV) }
        m.cpuSeconds = cpu1 - cpu0
        m.hostLoadStart = load0
        m.hostLoadEnd = RunMetrics.hostLoad1()
        m.cpuPerMillion = m.ok > 0 ? m.cpuSeconds / Double(m.ok) * 1e6 : .nan
        m.correlate(scoreSamples: scoreSamples, nodes: bed.nodeNames)
        m.countReliability(before: counters0, after: counters1)
        if opts.cooldown > 0 { Thread.sleep(forTimeInterval: opts.cooldown) }
        return RunRecord(spec: spec, metrics: m, placement: decision.nodes, notes: decision.notes,
                         responseBytes: responseBytes(spec.workload, rps: spec.rps))
    }

    /// Rollback of the extender, on the real controller. The shipped scheduler configuration marks the
    /// extender ignorable (packaging/examples/kube-scheduler-config.yaml), so stopping edge-controller
    /// is a complete rollback: every extender call fails at once and kube-scheduler schedules as if
    /// the extender were not configured. With replicas running where the extender put them under a
    /// fault, at t0 the controller gets SIGTERM (what `systemctl stop edge-controller` sends); the
    /// scheduler keeps placing pods, and default scheduling is restored at the first decision in
    /// which no extender call was answered. The replicas whose node differs are then re-created where
    /// default scheduling puts them (`kubectl rollout restart`), and the clock stops when the client
    /// gets an answer from every replica.
    ///
    /// Before that, the controller is frozen (SIGSTOP) for one placement: a hung controller, not a
    /// stopped one, costs each pod two httpTimeouts, which is what an operator waits for before
    /// deciding to roll back.
    func measureMTTR(scenario: ScenarioID) throws -> MTTRRecord {
        log("MTTR: extender rollback under \(scenario.rawValue): SIGTERM to the real edge-controller, kube-scheduler-like placement with httpTimeout \(opts.httpTimeout) s")
        guard let controller = bed.controller, controller.process.isRunning else {
            throw CommandFailure(description: "MTTR: edge-controller is not running")
        }
        let fault = try ActiveScenario(scenario, node: opts.degradedNode, bed: bed, settings: settings, seconds: opts.warmup + 120)
        defer { fault.remove() }
        if opts.warmup > 0 {
            try sh(inNamespace(bed.clientNS, loadArgs(rps: 100, seconds: opts.warmup)
                + bed.nodeNames.enumerated().flatMap { i, n in ["--replica", "\(n)@\(bed.nodeClientAddress(i + 1)):\(bed.probePort)"] }))
        }
        let before = try place(.extender)
        guard before.extenderAnswers == opts.replicas else {
            throw CommandFailure(description: "MTTR: the extender did not answer every pod before the rollback: \(before.notes)")
        }
        var running = try startReplicas(before.nodes)
        defer { running.forEach { $0.stop() } }

        // a hung controller: frozen for one placement of every replica
        kill(controller.pid, SIGSTOP)
        let hung = try place(.extender)
        kill(controller.pid, SIGCONT)
        log(String(format: "MTTR: with the controller frozen, placing %d pods took %.2f s (%d answered by the extender)",
                   opts.replicas, hung.seconds, hung.extenderAnswers))

        let t0 = monotonicNow()
        kill(controller.pid, SIGTERM)
        var attempts = 0
        var after: PlacementDecision
        repeat {
            attempts += 1
            after = try place(.extender)
            guard monotonicNow() - t0 < 600 else {
                throw CommandFailure(description: "MTTR: the extender still answered 600 s after SIGTERM (edge-controller did not stop)")
            }
        } while after.extenderAnswers > 0
        let tDecision = monotonicNow() - t0
        let exited = controller.waitExit(timeout: 30)
        let tExit = monotonicNow() - t0
        // the rolling restart: replica k moves when its node differs; the others keep running
        for (k, node) in after.nodes.enumerated() where before.nodes[k] != node {
            running[k].stop()
            let i = bed.nodeNames.firstIndex(of: node)! + 1
            running[k] = try bed.startServer(node: i, port: UInt16(7000 + k), label: "replica \(k)")
            bed.track(running[k])
        }
        let verify = try waitForEveryReplica(after.nodes, deadline: t0 + 600)
        let total = monotonicNow() - t0
        // checked once the clock has stopped: the check is the runner's, not part of the rollback
        let spread = try place(.spread)
        guard after.nodes == spread.nodes else {
            throw CommandFailure(description: "MTTR: with the extender gone placement gave \(after.nodes), default spreading gives \(spread.nodes)")
        }
        log(String(format: "MTTR: %.3f s — default scheduling after %.3f s (%d placement attempts), controller exited after %@ s, "
                   + "every replica answered after %.3f s; %@ -> %@", total, tDecision, attempts,
                   exited ? String(format: "%.3f", tExit) : "(not within 30)", verify,
                   before.nodes.joined(separator: ","), after.nodes.joined(separator: ",")))
        return MTTRRecord(scenario: scenario, decisionSeconds: tDecision, totalSeconds: total, before: before.nodes, after: after.nodes,
                          attempts: attempts, controllerExitSeconds: exited ? tExit : .nan,
                          hungPlacementSeconds: hung.seconds, hungAnswers: hung.extenderAnswers, httpTimeout: opts.httpTimeout)
    }

    /// Sends a short burst from the client to the replicas until every one of them has answered a
    /// request; returns the seconds since the first burst started.
    private func waitForEveryReplica(_ nodes: [String], deadline: Double) throws -> Double {
        let t0 = monotonicNow()
        let csv = "\(bed.options.workDir)/mttr-verify.csv"
        var answered = Set<Int>()
        while true {
            try sh(inNamespace(bed.clientNS, ["load", "--rps", String(20 * nodes.count), "--seconds", "0.5", "--timeout", String(opts.timeout),
                                                      "--connections", "1", "--response-bytes", "1024", "--out", csv] + replicaArgs(nodes)))
            for row in try RunMetrics.requestRows(csvPath: csv) where !row.probe && row.ok {
                if let port = Int(row.port) { answered.insert(port - 7000) }
            }
            if answered.count == nodes.count { return monotonicNow() - t0 }
            guard monotonicNow() < deadline else {
                throw CommandFailure(description: "MTTR: replicas \(Set(0..<nodes.count).subtracting(answered).sorted()) never answered")
            }
        }
    }
}
