// The host half of shaping: sysctls shaping wants while it is active. Today one, the TCP
// congestion control (`[shaping] host_congestion_control`, see HostCongestionControl for why),
// recorded in the ownership ledger before it is changed and put back on reset.
import Foundation
import Logging

struct HostTuning {
    let congestion: HostCongestionControl
    /// `shaping.host_congestion_control`; nil leaves the host's alone.
    let wantedCongestionControl: String?
    let logger: Logger

    /// The host's value, the first time one is configured. An unreadable sysctl records nothing;
    /// `apply` reports it.
    func entriesBeforeChanges(recorded: [LedgerEntry]) -> [LedgerEntry] {
        guard wantedCongestionControl != nil,
              !recorded.contains(where: \.recordsCongestionControl),
              let previous = try? congestion.current() else { return [] }
        return [.congestionControl(previous: previous)]
    }

    /// Switches the host to the configured algorithm. A kernel without it degrades nothing but
    /// this: shaping still works, and the failure goes to the status line and the log.
    func apply() -> (current: String?, failure: String?) {
        guard let wanted = wantedCongestionControl else { return (nil, nil) }
        do {
            let before = try congestion.current()
            if before == wanted { return (wanted, nil) }
            try congestion.set(wanted)
            logger.notice("\(HostCongestionControl.sysctlName): \(before) -> \(wanted) while shaping is active (shaping.reset restores \(before))")
            return (wanted, nil)
        } catch {
            logger.warning("\(HostCongestionControl.sysctlName) not changed to \(wanted): \(error)")
            return (try? congestion.current(), "\(error)")
        }
    }

    /// Puts the recorded value back.
    func restore(previous: String) throws -> [String] {
        let now = try congestion.current()
        if now != previous { try congestion.set(previous) }
        return ["restored \(HostCongestionControl.sysctlName) to \(previous) (was \(now))"]
    }
}
