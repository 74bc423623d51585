// edge-bench: the benchmarks behind `make bench`. Each prints figures, never pass/fail:
// targets live in the issues and the figures go into the notes.
import ArgumentParser
import EdgeAgent
import EdgeController
import EdgeAgentLab
import EdgeControllerLab

@main
struct EdgeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-bench",
        abstract: "edgenode benchmarks: BPF per-event cost, agent CPU/RSS, RPC latency, extender latency, EDT cost and accuracy.",
        subcommands: [AllBench.self, BPFCostBench.self, AgentBench.self, ExtenderBench.self, EDTBench.self])
}

/// Shared knobs.
struct BenchOptions: ParsableArguments {
    @Option(help: "Seconds of load per measurement.") var seconds: Double = 10
    @Option(help: "The TCP load generator (run with python3).") var loadScript = "Tests/scripts/tcp_load.py"
    @Option(help: "Directory holding the edge-agent binary to measure.") var bin = ".build/release"
}

struct AllBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "all", abstract: "Run every benchmark.")
    @OptionGroup var options: BenchOptions

    func run() async throws {
        try BPFCostBench.measure(options)
        try AgentBench.measure(options)
        print(ExtenderBenchmark.run(nodeCounts: [100, 1000, 5000], iterations: 200))
        print(try EDTBenchmark.run())
    }
}

struct ExtenderBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "extender",
        abstract: "/filter and /prioritize server-side latency for 100/1000/5000 candidates, and JSON decoding alone.")
    @Option(help: "Requests per node count.") var iterations = 200
    func run() throws { print(ExtenderBenchmark.run(nodeCounts: [100, 1000, 5000], iterations: iterations)) }
}

struct EDTBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edt",
        abstract: "EDT program cost per packet and shaped-rate accuracy at 10M/100M/1G through veths.")
    func run() throws { print(try EDTBenchmark.run()) }
}
