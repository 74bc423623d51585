// What a run started that must not outlive it, in one place. Daemons, attacker processes,
// network namespaces, pinned maps and scratch directories are registered here as teardowns when
// they are made; the normal end of a run releases (runs) them in its `stop()`, and SIGTERM,
// SIGINT or the run's time bound run every one still registered, newest first, print why and
// exit non-zero. Each teardown runs once, and never two at a time.
import Foundation

enum RunGuard {
    private static let lock = NSLock()
    /// Held while a teardown runs; an interrupt takes it and never gives it back.
    private static let teardownLock = NSLock()
    nonisolated(unsafe) private static var teardowns: [(id: Int, body: () -> Void)] = []
    nonisolated(unsafe) private static var nextID = 0
    nonisolated(unsafe) private static var currentPhase = "setup"
    /// The write end of the pipe the signal handler writes the signal number to.
    nonisolated(unsafe) private static var signalPipe: Int32 = -1

    /// Line-buffers stdout, catches SIGTERM and SIGINT, and bounds the whole run by `seconds`.
    /// A real handler, not SIG_IGN: ignored signals would be inherited by the daemons we exec.
    static func install(maxSeconds seconds: Int) {
        lineBufferStdout()
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { fatalError("pipe: errno \(errno)") }
        fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }  // not inherited by the daemons
        signalPipe = fds[1]
        let readEnd = fds[0]
        for sig in [SIGTERM, SIGINT] {
            signal(sig) { n in
                var byte = UInt8(truncatingIfNeeded: n)
                _ = write(RunGuard.signalPipe, &byte, 1)  // async-signal-safe
            }
        }
        let deadline = Date().addingTimeInterval(Double(seconds))
        let watcher = Thread {
            var p = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            while true {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 {
                    interrupt("the run overran its bound of \(seconds) s (--max-seconds)", status: 124)
                }
                if poll(&p, 1, Int32(min(left, 3600) * 1000) + 1) == 1 {
                    var byte: UInt8 = 0
                    _ = read(readEnd, &byte, 1)
                    interrupt("interrupted by \(byte == UInt8(SIGINT) ? "SIGINT" : "SIGTERM")", status: 128 + Int32(byte))
                }
            }
        }
        watcher.name = "edge-soak-guard"
        watcher.start()
    }

    /// Names what the run is doing now (printed, and named if the run is interrupted or overruns).
    static func phase(_ name: String) {
        lock.withLock { currentPhase = name }
        print("edge-soak: \(name) ...")
    }

    /// Registers `body` to undo something just made; returns the id to release it with.
    static func register(_ body: @escaping () -> Void) -> Int {
        lock.withLock {
            nextID += 1
            teardowns.append((nextID, body))
            return nextID
        }
    }

    /// Runs the teardown `id` now (the normal end of a run), unless it already ran.
    static func release(_ id: Int) {
        teardownLock.withLock {
            let body = lock.withLock { () -> (() -> Void)? in
                guard let i = teardowns.firstIndex(where: { $0.id == id }) else { return nil }
                return teardowns.remove(at: i).body
            }
            body?()
        }
    }

    private static func interrupt(_ why: String, status: Int32) -> Never {
        let phase = lock.withLock { currentPhase }
        print("edge-soak: \(why) during \(phase); stopping what the run started")
        teardownLock.lock()  // waits for a teardown the run is in, then keeps the rest from starting
        let all = lock.withLock { () -> [() -> Void] in
            defer { teardowns = [] }
            return teardowns.map(\.body)
        }
        for body in all.reversed() { body() }
        print("edge-soak: INTERRUPTED (\(why) during \(phase)); daemons stopped, namespaces and scratch files removed; exit \(status)")
        fflush(nil)
        _exit(status)
    }
}

/// Stops `p` (SIGTERM, then SIGKILL after `grace` seconds) and waits until it is gone; bounded.
/// For the abuse bed's attackers, whose output the bed reads from a pipe; daemons are the lab's
/// `DaemonProcess`, which stops itself the same way.
func stopProcess(_ p: Process, grace: Double = 10) {
    guard p.isRunning else { return }
    p.terminate()
    var deadline = Date().addingTimeInterval(grace)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    guard p.isRunning else { return }
    kill(p.processIdentifier, SIGKILL)
    deadline = Date().addingTimeInterval(5)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
}
