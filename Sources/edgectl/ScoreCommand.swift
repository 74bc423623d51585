// edgectl score: node scores, and with --explain which signal contributed how much.
import ArgumentParser
import EdgeAPI
import EdgeRPC
import Foundation

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Show the controller's score of every node (or NODE); --explain breaks it down by signal.")

    @OptionGroup var controller: ControllerSocketOptions
    @Argument(help: "Only this node.") var node: String?
    @Flag(help: "Show each signal's value, normalised value, weight and contribution.") var explain = false
    @Flag(help: "Print the raw JSON answer.") var json = false

    func run() throws {
        let r: ScoreGetResult = try controller.client().call(
            ControllerMethod.scoreGet, params: ScoreGetParams(node: node, explain: explain))
        if json { return try printJSON(r) }
        if r.scores.isEmpty {
            print("no node has reported yet")
            return
        }
        print(explain ? Self.renderExplained(r) : Self.render(r))
    }

    static func render(_ r: ScoreGetResult) -> String {
        var t = TextTable("NODE", "STATE", "BADNESS", "SMOOTHED", "ANCHOR", "PRIORITY", "PENALTY")
        for s in r.scores {
            let state = s.stale ? "stale" : s.suppressed == true ? "suppressed" : "fresh"
            t.add(s.node, state, num(s.raw), num(s.smoothed), num(s.anchor), String(s.priority),
                  s.dampingPenalty.map { String(Int($0.rounded())) } ?? "-")
        }
        return header(r) + "\n\n" + t.render()
    }

    static func renderExplained(_ r: ScoreGetResult) -> String {
        var blocks = [header(r)]
        for s in r.scores {
            var out = "node \(Fmt.text(s.node)): badness \(num(s.raw)), smoothed \(num(s.smoothed)), priority \(s.priority)"
                + (s.priority != s.publishedPriority ? " (published \(s.publishedPriority))" : "") + (s.stale ? ", STALE" : "")
            if let p = s.dampingPenalty {
                out += "\n  flap damping: penalty \(Int(p.rounded()))" + (s.suppressed == true
                    ? ", SUPPRESSED, reused in \(Int((s.reuseInSeconds ?? 0).rounded(.up)))s" : ", not suppressed")
            }
            var t = TextTable("SIGNAL", "VALUE", "UNIT", "RANGE", "NORMALISED", "WEIGHT", "CONTRIBUTION")
            for g in s.signals ?? [] {
                let range = g.lo.flatMap { lo in g.hi.map { "[\(num(lo)), \(num($0))]" } } ?? "-"
                t.add(g.signal, g.value.map(num) ?? "absent", g.unit, range, g.normalised.map(num) ?? "-",
                      "\(num(g.weight)) (of \(num(g.configuredWeight)))", num(g.contribution))
            }
            t.add("total", "", "", "", "", "", num(s.raw))
            out += "\n" + t.render()
            for n in s.notes { out += "\n  note: \(Fmt.text(n, width: 512))" }
            blocks.append(out)
        }
        return blocks.joined(separator: "\n\n")
    }

    static func header(_ r: ScoreGetResult) -> String {
        "normalisation \(r.normalisation), smoothing α \(num(r.smoothing)), hysteresis \(num(r.hysteresis)); "
            + "priority = round(10 · (1 − smoothed badness))"
    }

    static func num(_ v: Double) -> String {
        v.isFinite && v != 0 && abs(v) < 0.001 ? String(format: "%.2e", v) : Fmt.fixed(v, 3)
    }
}
