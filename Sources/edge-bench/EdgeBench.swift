// edge-bench: the benchmarks behind `make bench`. Each prints figures, never pass/fail:
// targets live in the issues and the figures go into the notes.
import ArgumentParser

@main
struct EdgeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-bench",
        abstract: "edgenode benchmarks: BPF per-event cost, agent CPU/RSS, RPC latency.",
        subcommands: [AllBench.self, BPFCostBench.self, AgentBench.self])
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
    }
}
