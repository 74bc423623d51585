// Where replicas go, under the two modes compared by the experiment. Both follow kube-scheduler's
// scoring for identical pods on identical nodes, where only spreading tells nodes apart:
//
//   spread(node) = 100 · (maxCount − count(node)) / maxCount   (100 everywhere while nothing is placed)
//
// an approximation of PodTopologySpread's default constraints (normalised so the emptiest node gets
// 100), counted with that plugin's default weight 2. The highest total wins; ties go by node order.
//
// baseline ("spread"): plugin scores only — telemetry is ignored; replicas go round-robin.
// proposed ("extender"): /filter first, then /prioritize, and kube-scheduler's sum:
//   total = 2 · spread + priority · weight · 10, with the extender weight of
//   packaging/examples/kube-scheduler-config.yaml (5) by default. That configuration marks the
//   extender ignorable, so a failing /filter call means "schedule as if it were not configured"
//   (with --not-ignorable it fails the pod instead); a /prioritize error is always ignored.
import ArgumentParser
import EdgeLab
import Foundation

enum PlacementPolicy: String, CaseIterable, ExpressibleByArgument {
    case spread, extender
}

struct PlacementDecision: Codable {
    var nodes: [String]
    var notes: [String]
    var seconds: Double
    /// Pods for which the extender answered /filter or /prioritize. 0 under the extender policy
    /// means every call failed and was ignored: the decision is default scheduling's.
    var extenderAnswers = 0
}

/// The two extender verbs placement asks; `ExtenderClient` speaks them to the controller over HTTP.
/// A protocol so that the placement arithmetic can be checked against answers written by hand.
protocol ExtenderVerbs {
    /// /filter: the nodes that passed, and why the others failed.
    func filter(pod: String, nodeNames: [String]) throws -> (passed: [String], failed: [String: String])
    /// /prioritize: the extender's priority (0…10) per node.
    func prioritize(pod: String, nodeNames: [String]) throws -> [String: Int]
}

extension ExtenderClient: ExtenderVerbs {}

enum Placer {
    /// PodTopologySpread's weight in the default scheduler profile.
    static let spreadPluginWeight = 2.0

    /// The spreading plugin's score of a node holding `count` replicas when the fullest candidate holds `maxCount`.
    static func spreadScore(count: Int, maxCount: Int) -> Double {
        maxCount == 0 ? 100 : 100 * Double(maxCount - count) / Double(maxCount)
    }

    /// kube-scheduler's choice for one pod: the highest `2 · spread + priority · weight · 10` among
    /// `candidates`; a tie goes to the earlier candidate. A node without a priority scores 0 there.
    static func pick(candidates: [String], counts: [String: Int], priority: [String: Int], extenderWeight: Double) -> String? {
        let maxCount = candidates.map { counts[$0] ?? 0 }.max() ?? 0
        func total(_ n: String) -> Double {
            spreadPluginWeight * spreadScore(count: counts[n] ?? 0, maxCount: maxCount) + Double(priority[n] ?? 0) * extenderWeight * 10
        }
        return candidates.enumerated().min { a, b in
            let ta = total(a.element), tb = total(b.element)
            return ta != tb ? ta > tb : a.offset < b.offset
        }?.element
    }

    /// Places `replicas` replicas over `nodes` (names in their fixed order), one pod at a time as
    /// kube-scheduler does: the extender (policy `.extender` only) is asked about every pod in turn.
    static func place(replicas: Int, nodes: [String], policy: PlacementPolicy, extender: ExtenderVerbs?,
                      extenderWeight: Double, ignorable: Bool = true, podPrefix: String) throws -> PlacementDecision {
        guard !nodes.isEmpty else { throw ExtenderCallError("no candidate nodes to place \(podPrefix) replicas on") }
        guard Set(nodes).count == nodes.count else { throw ExtenderCallError("candidate node names must be distinct: \(nodes)") }
        let t0 = monotonicNow()
        var counts = [String: Int](uniqueKeysWithValues: nodes.map { ($0, 0) })
        var chosen: [String] = []
        var notes: [String] = []
        var answers = 0
        for k in 0..<replicas {
            var candidates = nodes
            var priority: [String: Int] = [:]
            if policy == .extender, let extender {
                let pod = "\(podPrefix)-\(k)"
                let f: (passed: [String], failed: [String: String])
                var answered = false
                do { f = try extender.filter(pod: pod, nodeNames: nodes); answered = true } catch {
                    guard ignorable else { throw ExtenderCallError("\(pod) unschedulable: /filter failed: \(error)") }
                    notes.append("\(pod): /filter error, extender ignored (ignorable): \(error)")
                    f = (nodes, [:])
                }
                candidates = nodes.filter { f.passed.contains($0) }
                if !f.failed.isEmpty {
                    notes.append("\(pod): filtered " + f.failed.keys.sorted().map { "\($0) (\(f.failed[$0]!))" }.joined(separator: ", "))
                }
                guard !candidates.isEmpty else { throw ExtenderCallError("\(pod) unschedulable: every node failed /filter") }
                do { priority = try extender.prioritize(pod: pod, nodeNames: candidates); answered = true } catch {
                    notes.append("\(pod): /prioritize error ignored: \(error)")
                }
                if answered { answers += 1 }
            }
            // never nil: nodes is non-empty, and an empty /filter answer threw above
            guard let best = pick(candidates: candidates, counts: counts, priority: priority, extenderWeight: extenderWeight) else {
                throw ExtenderCallError("no node to place \(podPrefix)-\(k) on")
            }
            counts[best]! += 1
            chosen.append(best)
        }
        return PlacementDecision(nodes: chosen, notes: notes, seconds: monotonicNow() - t0, extenderAnswers: answers)
    }
}

struct PlaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "place",
        abstract: "Decide where replicas go under a policy; prints the decision as JSON.")

    @Option(help: "Controller base URL (extender policy).") var url = "http://127.0.0.1:8477"
    @Option(help: "Placement policy: spread (baseline) or extender (proposed).") var policy: PlacementPolicy
    @Option(name: .customLong("node"), help: "A candidate node, in order (repeat).") var nodes: [String] = []
    @Option(help: "Replicas to place.") var replicas = 4
    @Option(help: "Pod name prefix sent to the extender.") var podPrefix = "web"
    @Option(help: "The extender's weight in the scheduler configuration.") var extenderWeight = 5.0
    @Flag(help: "A failing /filter fails the pod (default: ignorable, as the shipped configuration).") var notIgnorable = false
    @Option(help: "Seconds per extender call before it counts as failed (the shipped configuration's httpTimeout: 2s).") var httpTimeout = 2.0

    func validate() throws {
        guard !nodes.isEmpty else { throw ValidationError("give at least one --node") }
        guard Set(nodes).count == nodes.count else { throw ValidationError("--node names must be distinct: \(nodes)") }
        guard (1...1000).contains(replicas) else { throw ValidationError("--replicas must be in 1…1000, got \(replicas)") }
        guard extenderWeight > 0 && extenderWeight <= 100 else { throw ValidationError("--extender-weight must be in (0, 100], got \(extenderWeight)") }
        guard httpTimeout >= 0.05 && httpTimeout <= 60 else { throw ValidationError("--http-timeout must be in [0.05, 60] s, got \(httpTimeout)") }
    }

    func run() throws {
        let d = try Placer.place(replicas: replicas, nodes: nodes, policy: policy,
                                 extender: ExtenderClient(url: try ControllerURL(parsing: url), timeout: httpTimeout), extenderWeight: extenderWeight,
                                 ignorable: !notIgnorable, podPrefix: podPrefix)
        print(String(decoding: try JSONEncoder().encode(d), as: UTF8.self))
    }
}

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Every interval, ask /filter and /prioritize for a new pod; write the top node per sample to a CSV.")

    @Option(help: "Controller base URL.") var url = "http://127.0.0.1:8477"
    @Option(name: .customLong("node"), help: "A candidate node, in order (repeat).") var nodes: [String] = []
    @Option(help: "Seconds to watch.") var seconds: Double
    @Option(help: "Seconds between samples.") var interval = 1.0
    @Option(help: "CSV (t_s,top,priorities,error).") var out: String

    func validate() throws {
        guard !nodes.isEmpty else { throw ValidationError("give at least one --node") }
        guard seconds > 0 && seconds <= 7200 else { throw ValidationError("--seconds must be in (0, 7200], got \(seconds)") }
        guard interval >= 0.1 && interval <= 60 else { throw ValidationError("--interval must be in [0.1, 60], got \(interval)") }
    }

    func run() throws {
        let extender = ExtenderClient(url: try ControllerURL(parsing: url), timeout: min(5, interval * 2))
        var csv = "t_s,top,priorities,error\n"
        let t0 = monotonicNow()
        var k = 0
        while monotonicNow() - t0 < seconds {
            let due = t0 + Double(k) * interval
            if due > monotonicNow() { Thread.sleep(forTimeInterval: due - monotonicNow()) }
            k += 1
            let t = String(format: "%.3f", monotonicNow() - t0)
            do {
                let d = try Placer.place(replicas: 1, nodes: nodes, policy: .extender, extender: extender, extenderWeight: 1,
                                         podPrefix: "watch")
                let p = try extender.prioritize(pod: "watch", nodeNames: nodes)
                csv += "\(t),\(d.nodes[0]),\(nodes.map { "\($0)=\(p[$0].map(String.init) ?? "-")" }.joined(separator: ";")),\n"
            } catch {
                csv += "\(t),,,\("\(error)".replacingOccurrences(of: ",", with: ";"))\n"
            }
        }
        try csv.write(toFile: out, atomically: true, encoding: .utf8)
    }
}
