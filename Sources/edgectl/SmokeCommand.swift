// edgectl smoke: does every signal of the running agent move? Makes traffic and scheduler
// wake-ups that each signal must see (SmokeTraffic), then compares the agent's window before
// and after. Exits 1 naming each signal that did not move.
import ArgumentParser
import EdgeAPI
import EdgeRPC
import EdgeTelemetry
import Foundation

struct SmokeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smoke",
        abstract: "Make bounded traffic and scheduler wake-ups, then show that each of the agent's signals moved.",
        discussion: """
            Creates a network namespace joined to this one by a veth pair with a small tbf, sends
            bulk TCP across it (RTT samples, retransmits, drops with their reason) while threads
            sleep and wake (run-queue samples), and removes it all. Run it as root in the agent's
            network namespace. Exit status 1 names each signal that did not move; 2 when the
            traffic could not be made (not root, no iproute2).
            """)

    @OptionGroup var agent: AgentSocketOptions
    @Option(help: "Seconds of traffic (1–30).") var seconds: Double = 3
    @Option(help: "TCP connections across the veth pair (1–16).") var connections = 4
    @Option(help: "tbf rate on the near end: low enough to drop.") var rate = "20mbit"

    func validate() throws {
        guard seconds >= 1, seconds <= 30 else { throw ValidationError("--seconds must be between 1 and 30, got \(seconds)") }
        guard (1...16).contains(connections) else { throw ValidationError("--connections must be between 1 and 16, got \(connections)") }
    }

    struct Moved {
        let signal: String
        let moved: Bool
        let detail: String
    }

    func run() throws {
        let client = try agent.client()
        let status: AgentStatus = try client.call(AgentMethod.status)
        let before: AgentTelemetry = try waitForWindow(client)
        let ns = SmokeNamespace()
        print("smoke: agent pid \(status.pid) on node \(status.node) (telemetry netns \(status.telemetry.netns)); namespace \(ns.name), veth \(ns.near)/\(ns.far), tbf \(rate), \(Fmt.seconds(seconds)) of traffic")
        var setupError: Error?
        do {
            try ns.create(rate: rate)
            let wake = Thread { SmokeTraffic.wakeups(threads: 4, seconds: seconds) }
            wake.start()
            try SmokeTraffic.bulk(ns, connections: connections, seconds: seconds)
        } catch {
            setupError = error
        }
        let leftovers = ns.remove()
        for e in leftovers { FileHandle.standardError.write(Data("smoke: cleanup: \(e)\n".utf8)) }
        if let setupError {
            FileHandle.standardError.write(Data("edgectl smoke: cannot make the traffic: \(setupError)\n".utf8))
            throw ExitCode(2)
        }

        // two more ticks: the last interval with our traffic is in the window
        let startTicks: AgentStatus = try client.call(AgentMethod.status)
        let deadline = Date().addingTimeInterval(max(5, 4 * startTicks.telemetry.intervalSeconds))
        while Date() < deadline {
            let s: AgentStatus = try client.call(AgentMethod.status)
            if s.telemetry.ticks >= startTicks.telemetry.ticks + 2 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let after: AgentTelemetry = try client.call(AgentMethod.telemetryGet, params: TelemetryGetParams())
        let results = Self.compare(before: before.window, after: after.window, peer: ns.farAddress)

        var t = TextTable("", "SIGNAL", "CHANGE")
        for r in results { t.add(r.moved ? "OK" : "FAILED", r.signal, r.detail) }
        print(t.render())
        let stuck = results.filter { !$0.moved }.map(\.signal)
        if stuck.isEmpty {
            print("smoke: every signal moved")
            return
        }
        var hint = ""
        if status.telemetry.netns == "self", let mine = Self.netnsLink("/proc/self/ns/net"),
           let theirs = Self.netnsLink("/proc/\(status.pid)/ns/net"), mine != theirs {
            hint = " (the agent counts only its own network namespace, \(theirs), and this run was in \(mine): run edgectl smoke there, e.g. with nsenter --net=/proc/\(status.pid)/ns/net)"
        }
        for m in status.telemetry.missing where stuck.contains(m.signal) { hint += "; \(m.summary)" }
        print("smoke: did not move: \(stuck.joined(separator: ", "))\(hint)")
        throw ExitCode(1)
    }

    /// telemetry.get, waiting while the agent says its first window is not ready.
    func waitForWindow(_ client: RPCClient) throws -> AgentTelemetry {
        let deadline = Date().addingTimeInterval(10)
        while true {
            do {
                return try client.call(AgentMethod.telemetryGet, params: TelemetryGetParams())
            } catch let e as RPCClientError where Date() < deadline && "\(e)".contains("not ready") {
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
    }

    static func netnsLink(_ path: String) -> String? { try? FileManager.default.destinationOfSymbolicLink(atPath: path) }

    /// What moved between two windows. Our traffic is thousands of events; what leaves the
    /// window meanwhile is an idle node's background, so "more than before" is the test.
    static func compare(before: TelemetryWindow, after: TelemetryWindow, peer: String) -> [Moved] {
        var out: [Moved] = []
        let ours = after.peers.first { $0.address == peer }
        let rttDelta = Int64(after.rttSamples) - Int64(before.rttSamples)
        out.append(Moved(signal: "rtt", moved: rttDelta > 0 && (ours?.samples ?? 0) > 0,
                         detail: "\(rttDelta >= 0 ? "+" : "")\(rttDelta) samples; peer \(peer): \(ours?.samples ?? 0) samples, p50 \(Fmt.ms(ours?.rttP50Ms)) ms"))
        let retrans = Int64(after.retransmits) - Int64(before.retransmits)
        out.append(Moved(signal: "retransmits", moved: retrans > 0, detail: "\(retrans >= 0 ? "+" : "")\(retrans) retransmitted segments"))
        let was = Dictionary(before.drops.map { ($0.reason, $0.count) }, uniquingKeysWith: +)
        let grew = after.drops.filter { $0.count > was[$0.reason, default: 0] }
            .map { ($0.reason, $0.count - was[$0.reason, default: 0]) }.sorted { $0.1 > $1.1 }
        out.append(Moved(signal: "drops", moved: !grew.isEmpty,
                         detail: grew.isEmpty ? "no reason's count grew" : grew.prefix(3).map { "+\($0.1) \($0.0)" }.joined(separator: ", ")))
        let runq = Int64(after.runqlatSamples) - Int64(before.runqlatSamples)
        out.append(Moved(signal: "runqlat", moved: runq > 0,
                         detail: "\(runq >= 0 ? "+" : "")\(runq) samples, p95 \(Fmt.ms(after.runqlatP95Ms)) ms"))
        return out
    }
}
