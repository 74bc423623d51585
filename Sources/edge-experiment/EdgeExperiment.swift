// edge-experiment: the placement experiment of issue 6 on a test bed of network namespaces or of VMs.
// `run` orchestrates; `serve`, `load`, `place` and `watch` are the pieces it starts inside the
// namespaces (the same binary, so the bed needs nothing but iproute2, tc and python3).
import ArgumentParser

@main
struct EdgeExperiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-experiment",
        abstract: "Baseline vs extender placement under faults, measured on a test bed of namespaces or VMs.",
        subcommands: [RunCommand.self, ServeCommand.self, LoadCommand.self, PlaceCommand.self, WatchCommand.self])
}
