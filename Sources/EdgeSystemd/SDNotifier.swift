// sd_notify in one small type. Outside systemd (no $NOTIFY_SOCKET) every call is a no-op, so the
// daemons run the same under a terminal, in tests and under systemd.
import CSystemd
import Glibc

public struct SDNotifier: Sendable {
    public init() {}

    /// True when started by systemd with a notify socket (Type=notify).
    public var isActive: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// READY=1 with a status line: sent once the daemon really serves (BPF attached, socket listening).
    public func ready(status: String) { send("READY=1\nSTATUS=\(Self.oneLine(status))") }

    /// STATUS=…: a one-line summary shown by `systemctl status`.
    public func status(_ text: String) { send("STATUS=\(Self.oneLine(text))") }

    /// WATCHDOG=1: call at least every `watchdogInterval`.
    public func watchdogPing() { send("WATCHDOG=1") }

    /// RELOADING=1 … READY=1 around a config reload (systemctl reload).
    public func reloading() { send("RELOADING=1") }

    /// STOPPING=1 on SIGTERM, before the clean detach.
    public func stopping() { send("STOPPING=1") }

    /// Half of WatchdogSec= (systemd's advice), or nil when the watchdog is off.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    private func send(_ state: String) {
        guard isActive else { return }
        _ = sd_notify(0, state)
    }

    static func oneLine(_ s: String) -> String {
        String(s.map { $0 == "\n" ? " " : $0 })
    }
}
