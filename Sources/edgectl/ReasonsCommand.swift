// edgectl reasons: the kernel's kfree_skb drop reasons with their weights and window counts.
import ArgumentParser
import EdgeAPI
import EdgeRPC

struct ReasonsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reasons", abstract: "List the kernel's packet drop reasons, their weights and counts in the window.")

    @OptionGroup var agent: AgentSocketOptions
    @Flag(help: "Print the raw JSON answer.") var json = false
    @Flag(help: "Only reasons seen in the current window.") var seen = false

    func run() throws {
        let reasons: [DropReasonInfo] = try agent.client().call(AgentMethod.telemetryReasons)
        let shown = seen ? reasons.filter { $0.windowCount > 0 } : reasons
        if json { return try printJSON(shown) }
        var t = TextTable("VALUE", "REASON", "WEIGHT", "WINDOW COUNT")
        for r in shown { t.add(String(r.value), r.name, Fmt.fixed(r.weight, 2), String(r.windowCount)) }
        print(t.render())
    }
}
