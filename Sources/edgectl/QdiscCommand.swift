// edgectl qdisc show DEV: a device's qdiscs and clsact filters as the agent reads them over
// netlink (no tc binary needed).
import ArgumentParser
import EdgeAPI
import EdgeRPC

struct QdiscCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qdisc", abstract: "Inspect a device's qdiscs and tc filters.",
        subcommands: [Show.self], defaultSubcommand: Show.self)

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show", abstract: "Show the qdiscs and clsact filters of DEV.")

        @OptionGroup var agent: AgentSocketOptions
        @Argument(help: "Network device, e.g. eth0.") var device: String
        @Flag(help: "Print the raw JSON answer.") var json = false

        func run() throws {
            let r: QdiscShowResult = try agent.client().call(AgentMethod.qdiscShow, params: QdiscShowParams(device: device))
            if json { return try printJSON(r) }
            print("\(Fmt.text(r.device)) (ifindex \(r.ifindex), \(r.txQueues) TX queues)")
            var q = TextTable("KIND", "HANDLE", "PARENT", "OPTIONS")
            for e in r.qdiscs { q.add(e.kind, e.handle, e.parent, e.options) }
            print(q.render())
            guard !r.filters.isEmpty else { return }
            print("")
            var f = TextTable("HOOK", "KIND", "PREF", "HANDLE", "PROGRAM", "DA", "OWNER")
            for e in r.filters {
                let program = [e.bpfName, e.bpfProgramId.map { "id \($0)" }].compactMap { $0 }.joined(separator: " ")
                f.add(e.hook, e.kind, String(e.priority), "0x" + String(e.handle, radix: 16),
                      program.isEmpty ? "-" : program, e.directAction.map { $0 ? "yes" : "no" } ?? "-",
                      e.isEdgenode ? "edgenode" : "-")
            }
            print(f.render())
        }
    }
}
