// edgectl nodes: every node the controller has heard from, with its signals and priority.
// Also holds the options shared by the controller subcommands (nodes, score, extender).
import ArgumentParser
import EdgeAPI
import EdgeRPC
import EdgeTelemetry
import Foundation

/// Options every controller subcommand shares.
struct ControllerSocketOptions: ParsableArguments {
    @Option(name: .long, help: "The controller's socket.")
    var socket: String = "/run/edge-controller/controller.sock"

    @Option(name: .long, help: "Seconds to wait for an answer.")
    var timeout: Double = 5

    func client() throws -> RPCClient { try makeClient(socket: socket, timeout: timeout, daemon: "edge-controller") }
}

struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the nodes reporting to the controller: signals, staleness, score and extender priority.")

    @OptionGroup var controller: ControllerSocketOptions
    @Flag(help: "Print the raw JSON answer.") var json = false

    func run() throws {
        let r: NodesListResult = try controller.client().call(ControllerMethod.nodesList)
        if json { return try printJSON(r) }
        if r.nodes.isEmpty {
            print("no node has reported yet")
            return
        }
        print(Self.render(r.nodes))
    }

    /// The signal columns come from the catalogue (`nodesColumn`), between REPORTS and BADNESS.
    static func render(_ nodes: [NodeSummary]) -> String {
        let columns = TelemetrySignal.nodeList.filter { $0.nodesColumn != nil }
        var t = TextTable(columns: ["NODE", "STATE", "SEEN", "REPORTS"] + columns.map { $0.nodesColumn! }
                          + ["BADNESS", "SMOOTHED", "PRIORITY", "AGENT"])
        for n in nodes {
            t.add(row: [n.node, n.stale ? "stale" : "fresh", Fmt.seconds(n.lastSeenSecondsAgo) + " ago", String(n.reportCount)]
                  + columns.map { Fmt.signal(n[$0], $0.format) }
                  + [Fmt.fixed(n.scoreRaw, 3), Fmt.fixed(n.scoreSmoothed, 3), String(n.priority), n.agentVersion])
        }
        return t.render()
    }
}
