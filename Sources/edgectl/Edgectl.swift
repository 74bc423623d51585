// edgectl(1): the operator's CLI over the agent's and the controller's local sockets.
// One file per subcommand; the wire types come from EdgeAPI, shared with the daemons.
import ArgumentParser
import EdgeCore
import EdgeRPC

@main
struct Edgectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgectl",
        abstract: "Query and control edgenode's edge-agent and edge-controller.",
        version: EdgenodeVersion.current,
        subcommands: [StatusCommand.self, TelemetryCommand.self, ReasonsCommand.self,
                      ShapeCommand.self, QdiscCommand.self,
                      NodesCommand.self, ScoreCommand.self, ExtenderCommand.self,
                      DoctorCommand.self, SmokeCommand.self])
}

/// Options every agent subcommand shares.
struct AgentSocketOptions: ParsableArguments {
    @Option(name: .long, help: "The agent's socket.")
    var socket: String = "/run/edge-agent/agent.sock"

    @Option(name: .long, help: "Seconds to wait for an answer.")
    var timeout: Double = 5

    func client() throws -> RPCClient { try makeClient(socket: socket, timeout: timeout, daemon: "edge-agent") }
}

/// One client per command, for either daemon's socket, with the --timeout validated once here.
func makeClient(socket: String, timeout: Double, daemon: String) throws -> RPCClient {
    guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
    return RPCClient(path: socket, timeout: .milliseconds(Int64(timeout * 1000)), daemonName: daemon)
}
