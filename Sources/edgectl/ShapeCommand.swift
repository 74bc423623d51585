// edgectl shape: list, set, delete and reset the agent's EDT bandwidth classes.
import ArgumentParser
import EdgeAPI
import EdgeCore
import EdgeRPC
import Foundation

struct ShapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shape",
        abstract: "Per-workload egress rate limits (EDT): list, set, del, reset.",
        subcommands: [List.self, Set.self, Delete.self, Reset.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Show the shaping status and every class with its counters.")

        @OptionGroup var agent: AgentSocketOptions
        @Flag(help: "Print the raw JSON answer.") var json = false

        func run() throws {
            let result: ShapingListResult = try agent.client().call(AgentMethod.shapingList)
            if json { return try printJSON(result) }
            print("device \(Fmt.text(result.device ?? "-"))  shaping \(Fmt.text(result.status, width: 512))")
            guard !result.classes.isEmpty else { return print("no classes") }
            var t = TextTable("SELECTOR", "ORIGIN", "RATE", "HORIZON", "ECN", "BYTES", "PACKETS", "DROPS", "CE MARKS")
            for c in result.classes {
                // origin: config ([[shaping.class]]), cni (edgenode-bandwidth) or rpc (shaping.set)
                t.add(c.selector, c.origin ?? "-", c.rate.description, DurationParser.format(seconds: c.horizonSeconds),
                      c.ecn ? "on" : "off", String(c.bytes), String(c.packets), String(c.drops), String(c.ecnMarks))
            }
            print(t.render())
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Limit the egress of SELECTOR to RATE.",
            discussion: """
                SELECTOR: a source address or CIDR (10.0.0.5, 10.1.0.0/16, fd00::/64), \
                cgroup:/sys/fs/cgroup/... or unit:NAME.service.
                RATE: 50M, 50mbit, 1.5Gbit, 10Mi (1 Mbit/s to 100 Gbit/s).
                """)

        @OptionGroup var agent: AgentSocketOptions
        @Argument(help: "What to shape.") var selector: String
        @Argument(help: "The rate.") var rate: String
        @Option(help: "Longest a packet may wait (e.g. 40ms); default derived from the rate.") var horizon: String?
        @Flag(help: "Print the raw JSON answer.") var json = false

        func run() throws {
            let c: ShapingClassInfo = try agent.client().call(
                AgentMethod.shapingSet, params: ShapingSetParams(selector: selector, rate: rate, horizon: horizon))
            if json { return try printJSON(c) }
            print("\(Fmt.text(c.selector)): \(c.rate), horizon \(DurationParser.format(seconds: c.horizonSeconds)), ECN \(c.ecn ? "on" : "off") (class \(c.classId))")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "del", abstract: "Remove the class of SELECTOR.", aliases: ["delete"])

        @OptionGroup var agent: AgentSocketOptions
        @Argument(help: "The selector the class was set with.") var selector: String
        @Flag(help: "Print the raw JSON answer.") var json = false

        func run() throws {
            let r: ShapingChangeResult = try agent.client().call(AgentMethod.shapingDelete, params: ShapingDeleteParams(selector: selector))
            if json { return try printJSON(r) }
            r.actions.forEach { print(Fmt.text($0, width: 512)) }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset",
            abstract: "Remove the EDT filter and every class, and put back the device's recorded root qdisc.")

        @OptionGroup var agent: AgentSocketOptions
        @Flag(help: "Print the raw JSON answer.") var json = false

        func run() throws {
            let r: ShapingChangeResult = try agent.client().call(AgentMethod.shapingReset)
            if json { return try printJSON(r) }
            r.actions.forEach { print(Fmt.text($0, width: 512)) }
        }
    }
}
