// edgectl telemetry: the agent's current window, once or every interval (--watch).
import ArgumentParser
import EdgeAPI
import EdgeRPC
import EdgeTelemetry
import Foundation

struct TelemetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry",
        abstract: "Show TCP RTT, retransmits, drops by reason, run-queue latency, CPU, per-peer RTT and shaping counters.")

    @OptionGroup var agent: AgentSocketOptions
    @Flag(help: "Print the raw JSON window.") var json = false
    @Flag(help: "Refresh every --interval seconds until interrupted.") var watch = false
    @Option(help: "Seconds between refreshes with --watch.") var interval: Double = 1
    @Option(help: "Most peers to list.") var peers: Int = 10

    func validate() throws {
        guard interval >= 0.1 else { throw ValidationError("--interval must be at least 0.1 seconds") }
        guard peers >= 0 else { throw ValidationError("--peers must be >= 0") }
    }

    func run() throws {
        let client = try agent.client()
        repeat {
            let w: AgentTelemetry = try client.call(AgentMethod.telemetryGet, params: TelemetryGetParams(peers: peers))
            if json {
                try printJSON(w)
            } else {
                if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") } // clear screen between frames
                print(Self.render(w))
            }
            if watch { Thread.sleep(forTimeInterval: interval) }
        } while watch
    }

    static func render(_ telemetry: AgentTelemetry) -> String {
        let w = telemetry.window
        var out = "node \(w.node)  window \(Fmt.seconds(w.windowSeconds))  agent \(w.agentVersion)\n\n"
        var t = TextTable("SIGNAL", "VALUE", "SAMPLES")
        for signal in TelemetrySignal.catalogue {
            guard let row = signal.telemetryRow else { continue }
            t.add(row.label, Fmt.signal(signal.value(in: w), signal.format), row.samples(w))
        }
        out += t.render()
        if !w.drops.isEmpty {
            var d = TextTable("DROP REASON", "COUNT", "RATE/S", "WEIGHT")
            for r in w.drops { d.add(r.reason, String(r.count), Fmt.rate(r.ratePerSecond), Fmt.fixed(r.weight, 2)) }
            out += "\n\n" + d.render()
        }
        if !w.peers.isEmpty {
            var p = TextTable("PEER", "RTT P50 (MS)", "RTT P99 (MS)", "SAMPLES")
            for peer in w.peers { p.add(peer.address, Fmt.ms(peer.rttP50Ms), Fmt.ms(peer.rttP99Ms), String(peer.samples)) }
            out += "\n\n" + p.render()
        }
        if let shaping = telemetry.shaping {
            out += "\n\nshaping \(shaping.status)" + (shaping.device.map { " on \($0)" } ?? "")
            if !shaping.classes.isEmpty {
                var c = TextTable("CLASS", "RATE", "BYTES", "PACKETS", "DROPS", "CE MARKS")
                for k in shaping.classes {
                    c.add(k.selector, k.rate.description, String(k.bytes), String(k.packets), String(k.drops), String(k.ecnMarks))
                }
                out += "\n" + c.render()
            }
        }
        return out
    }
}
