// Issue 16 item 3: a hung controller must not keep pinging systemd's watchdog. The ping is earned by
// a self-probe of /healthz on the controller's own listener; here the listener is made to stop
// answering for real (every connection slot of server.max_connections held open by idle clients),
// and the test checks that WATCHDOG=1 stops while it lasts and comes back when it ends. systemd
// (WatchdogSec=4s, TimeoutAbortSec=2s in the shipped unit) then bounds a hang to about 6 s; that
// last step needs a real systemd and is the VM bed's to check.
import EdgeTestSupport
import Foundation
import XCTest

final class ControllerWatchdogTests: XCTestCase {
    func testAListenerThatStopsAnsweringWithholdsTheWatchdogPing() throws {
        try requireRoot()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("edgetest-wd-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("controller.toml").path
        try """
        [server]
        listen = "127.0.0.1:8477"
        token_file = ""
        max_connections = 16
        [rpc]
        socket = "\(dir.appendingPathComponent("controller.sock").path)"
        group = ""
        [registry]
        state_file = ""
        """.write(toFile: config, atomically: true, encoding: .utf8)

        let ns = try ScratchNetns()
        let notify = try NotifySocket()
        // WATCHDOG_USEC 2 s: a ping (or a withheld one) every second, the probe's deadline 0.5 s
        let controller = try DaemonProcess(try Products.path("edge-controller"), ["--config", config], netns: ns.name,
                                           environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
        defer { controller.stop() }
        XCTAssertTrue(notify.waitFor("READY=1"), controller.log)

        // Every slot taken by clients that never send a request, before the first probe (the probe
        // keeps its connection alive, so slots taken later would not reach it): the listener accepts
        // no more, as if its event loops hung.
        let holder = try DaemonProcess("/usr/bin/python3", ["-c", """
            import socket, time
            held = [socket.create_connection(("127.0.0.1", 8477)) for _ in range(24)]
            print("held", len(held), flush=True)
            time.sleep(60)
            """], netns: ns.name)
        XCTAssertTrue(holder.waitUntil(timeout: 10) { holder.log.contains("held") }, holder.log)
        XCTAssertTrue(controller.waitUntil(timeout: 10) { controller.log.contains("withholding the watchdog ping") },
                      "the self-probe must notice the listener:\n\(controller.log)")
        _ = notify.drain()
        Thread.sleep(forTimeInterval: 3)
        let during = notify.drain()
        XCTAssertFalse(during.contains { $0.contains("WATCHDOG=1") }, "no ping while /healthz cannot be reached: \(during)")

        holder.stop()
        XCTAssertTrue(notify.waitFor("WATCHDOG=1", timeout: 8), "pings (re)start once the listener answers:\n\(controller.log)")
    }
}
