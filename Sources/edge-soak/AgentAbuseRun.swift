// `--runs abuse-agent` (make abuse): issue 13's attacks by a member of the socket's group,
// replayed against the release edge-agent with shaping on a veth in a namespace of its own.
// Attacks: a write from a user namespace, a write after an exec race, a selector alias,
// 18,000-request batches, 1,024 classes and a flood of shaping.list, slow-loris connections, a
// connection churn, frames over rpc.max_frame_bytes, half-close. Meanwhile root calls agent.status every
// 200 ms and shaping.set every second, /healthz is fetched every 200 ms, and every WATCHDOG=1 is
// timestamped; each attack prints one row of figures (AbuseMonitor).
import EdgeAPI
import EdgeCore
import EdgeLab
import EdgeRPC
import Foundation

enum AgentAbuseRun {
    static func run(binDir: String, seconds: Int) throws {
        RunGuard.phase("abuse-agent: setting up the namespace and the agent")
        let bed = try AbuseBed(binDir: binDir)
        defer { bed.stop() }
        print("abuse-agent: release edge-agent pid \(bed.pid) in netns \(bed.netns), shaping on veth0 (4 TX queues), "
              + "telemetry interval 1 s (a WATCHDOG=1 per tick), rpc.max_clients_per_uid 64, rpc.idle_timeout 10 s")
        let m = AbuseMonitor(run: "abuse-agent", pid: bed.pid, watchdog: bed.watchdog)
        defer { m.stop() }
        let socket = bed.socket, port = bed.metricsPort
        m.probe("root agent.status", every: 0.2) {
            (try? RPCClient(path: socket, timeout: .seconds(30)).call("agent.status", as: AgentStatus.self)) != nil
        }
        m.probe("root shaping.set", every: 1) {
            (try? RPCClient(path: socket, timeout: .seconds(30))
                .call("shaping.set", params: ShapingSetParams(selector: "10.99.0.1", rate: "10mbit"), as: ShapingClassInfo.self)) != nil
        }
        m.probe("/healthz", every: 0.2, netns: bed.netns) { httpGetOK(port: port, "/healthz") }
        let runStart = Date()

        try m.attack("idle", finding: "-") {
            Thread.sleep(forTimeInterval: 5)
            return "no attack (baseline)"
        }
        try m.attack("userns write", finding: "#1") {
            let r = try bed.attack(["/usr/bin/unshare", "-Ur"], mode: "write")
            return "shaping.set as root of a user namespace made by nobody: \(r["answer"]?["error"]?["message"]?.stringValue ?? "ANSWERED \(r)")"
        }
        try m.attack("exec race", finding: "#2") {
            let r = try bed.attack(mode: "execrace", 10, extra: [bed.setuidSleep])
            return "connect, fork, exec setuid-root sleep, child sends shaping.set: \(r["writes"]?.intValue ?? -1) of "
                + "\(r["tries"]?.intValue ?? 0) writes succeeded, \(r["refused"]?.intValue ?? 0) refused (\(r["message"]?.stringValue ?? "-"))"
        }
        // Before the table is filled: the alias takes a class for a moment.
        try m.attack("selector alias", finding: "#7") {
            let client = RPCClient(path: bed.socket, timeout: .seconds(30))
            let _: ShapingClassInfo = try client.call("shaping.set", params: ShapingSetParams(selector: "10.77.255.1/32", rate: "100gbit"))
            let alias: ShapingClassInfo = try client.call("shaping.set", params: ShapingSetParams(selector: "::ffff:10.77.255.1/128", rate: "20mbit"))
            _ = try client.callRaw("shaping.delete", params: .object(["selector": .string("::ffff:10.77.255.1/128")]))
            let list = try client.call(AgentMethod.shapingList)
            let left = list.classes.contains { $0.selector == "10.77.255.1/32" }
            return "set 10.77.255.1/32, set ::ffff:10.77.255.1/128 (answered as \(alias.selector)), delete the alias: "
                + (left ? "10.77.255.1/32 STILL LISTED" : "no class left for it")
        }
        try m.attack("half-close, 1 class", finding: "#9") { try halfClose(bed) }
        try m.attack("18,000-call batch", finding: "#3") {
            let r = try bed.attack(mode: "batch", Double(seconds))
            return "\(r["sent"]?.intValue ?? 0) batches of 18,000 telemetry.get on 4 connections, \(r["refused"]?.intValue ?? 0) refused "
                + "(\(r["message"]?.stringValue ?? "-")), slowest answer \(ms(r["slowest"]?.doubleValue ?? 0))"
        }
        try m.attack("1,024 classes, shaping.list", finding: "#4") {
            let fill = try bed.fillClasses(to: 1024)
            var one = LatencyStats()
            for _ in 0..<10 {
                let t = ContinuousClock.now
                let list = try RPCClient(path: bed.socket, timeout: .seconds(60)).call(AgentMethod.shapingList)
                one.add(ContinuousClock.now - t)
                guard list.classes.count >= 1024 else { throw SoakError("shaping.list returned \(list.classes.count) classes") }
            }
            return "\(fill.set) classes set by root in \(ms(fill.took)) (1,024 with root's prober's); one shaping.list of them (10 calls): \(one.summary)"
        }
        try m.attack("shaping.list flood", finding: "#4") {
            let r = try bed.attack(mode: "flood", Double(seconds))
            return "\(r["batches"]?.intValue ?? 0) batches of 8 shaping.list + 8 telemetry.get on 4 connections "
                + "(\(String(format: "%.0f", Double(r["bytes"]?.intValue ?? 0) / 1_048_576)) MiB answered), \(r["lost"]?.intValue ?? 0) connections lost"
        }
        try m.attack("slow-loris", finding: "#5") {
            let r = try bed.attack(mode: "loris", 15, extra: ["200"])
            return "200 half-frame connections opened at once, kept 15 s: \(r["held"]?.intValue ?? 0) held, \(r["refused"]?.intValue ?? 0) refused "
                + "(\(r["message"]?.stringValue ?? "-")), \(r["failed"]?.intValue ?? 0) failed to connect, "
                + "\(r["closed_by_server"]?.intValue ?? 0) of the held closed by the server (idle timeout 10 s)"
        }
        try m.attack("socket churn", finding: "#5") {
            let r = try bed.attack(mode: "churn", Double(seconds))
            return "8 threads connect, telemetry.get, close: \(r["calls"]?.intValue ?? 0) calls, \(r["failed"]?.intValue ?? 0) failed"
                + (r["failed"]?.intValue ?? 0 > 0 ? " (\(r["message"]?.stringValue ?? "-"))" : "")
        }
        try m.attack("oversized frames", finding: "#5, frames") {
            let r = try bed.attack(mode: "oversize", Double(seconds), extra: ["2097152"])
            return "2 MiB frames (rpc.max_frame_bytes 1 MiB) on 4 connections: \(r["sent"]?.intValue ?? 0) sent, "
                + "\(r["answered"]?.intValue ?? 0) answered (\(r["message"]?.stringValue ?? "-")), \(r["failed"]?.intValue ?? 0) failed"
        }
        try m.attack("half-close, 1,024 classes", finding: "#9") { try halfClose(bed) }
        print("abuse-agent: whole run: \(bed.watchdog.count(of: "WATCHDOG=1", from: runStart, to: Date())) watchdog pings, longest gap "
              + String(format: "%.2f s", bed.watchdog.longestGap(of: "WATCHDOG=1", from: runStart)) + " (WatchdogSec=30s in the unit); agent \(try ProcessSample(pid: bed.pid))")
    }

    /// shaping.list (id 2) + telemetry.get (id 1, without its newline), then shutdown(SHUT_WR).
    static func halfClose(_ bed: AbuseBed) throws -> String {
        let r = try bed.attack(mode: "halfclose")
        let ids = r["ids"]?.arrayValue?.map { $0.intValue.map(String.init) ?? "null" } ?? []
        return "shaping.list + telemetry.get then shutdown(SHUT_WR): \(r["answers"]?.intValue ?? 0) of 2 answered "
            + "(ids \(ids.joined(separator: ", ")); \(r["bytes"]?.intValue ?? 0) bytes)"
    }

    static func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
    static func ms(_ d: Duration) -> String {
        ms(Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
    }
}
