// edgectl status: is the agent up, what is attached, what is missing.
import ArgumentParser
import EdgeAPI
import EdgeRPC

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the agent's health, attached BPF programs and missing kernel features.")

    @OptionGroup var agent: AgentSocketOptions
    @Flag(help: "Print the raw JSON answer.") var json = false

    func run() throws {
        let s: AgentStatus = try agent.client().call(AgentMethod.status)
        if json { return try printJSON(s) }
        var t = TextTable("FIELD", "VALUE")
        t.add("node", s.node)
        t.add("version", s.version)
        t.add("pid", String(s.pid))
        t.add("uptime", Fmt.seconds(s.uptimeSeconds))
        t.add("socket", s.socket)
        t.add("metrics", s.metricsListen ?? "off")
        t.add("telemetry", "\(s.telemetry.attached.count) programs attached, \(s.telemetry.ticks) ticks, netns \(s.telemetry.netns)")
        t.add("window", "\(Fmt.seconds(s.telemetry.windowSeconds)) every \(s.telemetry.intervalSeconds)s")
        for m in s.telemetry.missing { t.add(m.fallback == nil ? "missing" : "degraded", m.summary) }
        if let e = s.telemetry.sourceError { t.add("source error", e) }
        t.add("shaping", s.shaping)
        if let p = s.podTimestamps { t.add("pod timestamps", p) }
        t.add("controller", s.controller)
        print(t.render())
    }
}
